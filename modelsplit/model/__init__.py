"""The model and what is known of it: files, inspection, domains, cubes and MiniZinc text.

``files`` (the user's model and data files), ``inspect`` (asks MiniZinc for the interface, types
and one flattening), ``info`` (what inspection found: variables, slots, enums), ``text`` (slots and
values as MiniZinc text), ``names`` (names such as ``x[2,Red]`` read into slots), ``domain``
(integer domains), ``cube`` (cubes and nogoods), ``fzn`` (reading and amending FlatZinc), ``dzn``
(reading dzn solutions), ``goal`` (satisfy, minimize, maximize), ``resumable`` (fixed
lexicographic search).
"""

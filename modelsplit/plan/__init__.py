"""The frozen plan: what splitting wrote, and the tasks made from its parts.

``plan`` (:class:`Plan` and :class:`Part`, loaded from a plan directory's manifest), ``write``
(writing a plan directory), ``task`` (:class:`PartTask`: everything a worker needs for one part).
"""

// fzn-gecode-bound: Gecode's FlatZinc solver that also takes objective bounds while it runs.
//
// It runs a FlatZinc file exactly as fzn-gecode does (same library, same options, same output),
// and reads its standard input meanwhile: each line is an integer L, and from then on the
// objective must be at most L (minimize) or at least L (maximize). A part of a split model is
// thus told of a better solution found by another part without being stopped: the search it has
// done is kept, and what is left of it is cut by the new bound as if it had found that solution
// itself. Lines that are not an integer, and every line of a satisfaction problem or of a float
// objective, are ignored; end of input leaves the last bound in force. Lines already waiting when
// the search starts are read before it starts. With -s, the statistics count the bounds that
// tightened the last one (boundsTaken).
//
// The bound is posted by a propagator on the objective that reads the latest limit each time it
// runs. It is subscribed to the objective's bounds, which the search moves at most nodes (the
// objective depends on the choices), and, for a lexicographic search (below), to the bounds of
// its variables, whose choices move them at every node (golomb's objective may stay put for many
// nodes). Subscribed to every variable, it ran at every node and cost knapsack 30 14 % more CPU,
// and each failure it caused counted for every variable's AFC (the default search's choice).
//
// Where the search is lexicographic (the solve item's first annotation is
// int_search(X, input_order, indomain_min, ...)), SIGTERM makes it say how far it got before it
// ends: over the next nodes, the propagator keeps the furthest point (the smallest value of each
// of X's domains at a node, in order), then prints the comment line
//     %%%modelsplit-searched: v1 v2 ... vn
// and the process exits. Depth first,
// X in order, smallest value first, every assignment of X lexicographically before that point has
// been searched or ruled out under a bound at least as weak as the current one, so the part may
// be taken up again (or cut into finer parts) with X >=lex that point, losing none of its search.
//
// With --check as its first argument it searches nothing: it parses FILE once, says "ready", and
// answers questions about cubes, one per line of its standard input, until end of input. The variables
// asked about are those of the solve item's first int_search annotation, numbered from 0. A
// question is a list of triples "K LO HI" (variable K is at least LO and at most HI; "*" for no
// limit); the answer is one line: "0" where propagation at the root refutes it, else "1", and
// where the question starts with "?", the smallest and largest value of each of the variables
// after propagation. A cube of a split model checked so takes one copy of the parsed model and
// its propagation, not a process.

#include <gecode/flatzinc.hh>
#include <gecode/int.hh>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace Gecode;

namespace {

std::atomic<int> limit;  // the objective bound read last (inclusive)
std::atomic<bool> stopping{false};  // SIGTERM came: say how far the search got, and end
const int LOOKS = 64;  // nodes looked at after SIGTERM for the furthest point
std::atomic<int> taken{0};  // bounds read that tightened the last one (with -s: boundsTaken)

void on_term(int) { stopping.store(true); }

// Ends the process 0.2 s after SIGTERM if the propagator has not by then (a search that moved
// none of its variables meanwhile): without a point, which only costs the search done.
void watchdog() {
  while (!stopping.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::_Exit(0);  // every solution printed is flushed already (Gecode ends each with endl)
}

class ExternalBound : public Propagator {
 protected:
  Int::IntView objective;
  ViewArray<Int::IntView> order;  // X of a lexicographic search (else empty): not subscribed
  bool minimize;

  // Called each time it runs once SIGTERM came: keeps the furthest point seen, and after LOOKS nodes
  // prints it and ends. One node is not enough: a node the search backtracks to is recomputed
  // from a copy of an ancestor, whose point (further back) is seen first.
  void look_and_end() {
    static std::vector<int> furthest;
    static int looks = 0;
    std::vector<int> here(order.size());
    for (int i = 0; i < order.size(); i++) here[i] = order[i].min();
    if (looks++ == 0 || furthest < here) furthest = here;
    if (looks < LOOKS) return;
    std::cout << "%%%modelsplit-searched:";
    for (int v : furthest) std::cout << ' ' << v;
    std::cout << std::endl;
    std::_Exit(0);
  }

 public:
  ExternalBound(Home home, Int::IntView o, ViewArray<Int::IntView>& order0, bool min)
      : Propagator(home), objective(o), order(order0), minimize(min) {
    objective.subscribe(home, *this, Int::PC_INT_BND);
    order.subscribe(home, *this, Int::PC_INT_BND);
  }
  ExternalBound(Space& home, ExternalBound& p) : Propagator(home, p), minimize(p.minimize) {
    objective.update(home, p.objective);
    order.update(home, p.order);
  }
  Propagator* copy(Space& home) override { return new (home) ExternalBound(home, *this); }
  PropCost cost(const Space&, const ModEventDelta&) const override {
    return PropCost::unary(PropCost::LO);
  }
  void reschedule(Space& home) override {
    objective.reschedule(home, *this, Int::PC_INT_BND);
    order.reschedule(home, *this, Int::PC_INT_BND);
  }
  ExecStatus propagate(Space& home, const ModEventDelta&) override {
    if (order.size() > 0 && stopping.load(std::memory_order_relaxed)) look_and_end();
    int l = limit.load(std::memory_order_relaxed);
    if (minimize) {
      GECODE_ME_CHECK(objective.lq(home, l));
    } else {
      GECODE_ME_CHECK(objective.gq(home, l));
    }
    return ES_FIX;
  }
  size_t dispose(Space& home) override {
    objective.cancel(home, *this, Int::PC_INT_BND);
    order.cancel(home, *this, Int::PC_INT_BND);
    (void)Propagator::dispose(home);
    return sizeof(*this);
  }
  static void post(Home home, IntVar o, const IntVarArgs& os, bool min) {
    ViewArray<Int::IntView> order(home, os);
    (void)new (home) ExternalBound(home, Int::IntView(o), order, min);
  }
};

void take(const std::string& line, bool minimize) {
  char* end = nullptr;
  long v = std::strtol(line.c_str(), &end, 10);
  if (end == line.c_str()) return;
  if (v > Int::Limits::max) v = Int::Limits::max;
  if (v < Int::Limits::min) v = Int::Limits::min;
  int l = static_cast<int>(v);
  int old = limit.load();
  // only ever tighter: a late line with a weaker bound changes nothing
  while (minimize ? l < old : l > old) {
    if (limit.compare_exchange_weak(old, l)) {
      taken++;
      break;
    }
  }
}

// The lines already waiting when the search starts, read before it starts.
bool read_waiting(bool minimize) {
  std::string line;
  pollfd in = {0, POLLIN, 0};
  while (std::cin.rdbuf()->in_avail() > 0 || (poll(&in, 1, 0) > 0 && (in.revents & POLLIN))) {
    if (!std::getline(std::cin, line)) return false;
    take(line, minimize);
  }
  return true;
}

void read_bounds(bool minimize) {
  std::string line;
  while (std::getline(std::cin, line)) take(line, minimize);
}

// X of the solve item's first annotation when it is int_search(X, input_order, indomain_min, ...)
// (its constants as fixed variables); empty otherwise.
IntVarArgs lex_order(FlatZinc::FlatZincSpace& fg) {
  IntVarArgs none;
  FlatZinc::AST::Array* anns = fg.solveAnnotations();
  if (anns == nullptr || anns->a.empty() || !anns->a[0]->isCall("int_search")) return none;
  FlatZinc::AST::Array* args = anns->a[0]->getCall("int_search")->args->getArray();
  if (args->a.size() < 3 || !args->a[0]->isArray()) return none;
  auto* var_sel = dynamic_cast<FlatZinc::AST::Atom*>(args->a[1]);
  auto* val_sel = dynamic_cast<FlatZinc::AST::Atom*>(args->a[2]);
  if (!var_sel || var_sel->id != "input_order" || !val_sel || val_sel->id != "indomain_min") {
    return none;
  }
  IntVarArgs order;
  for (FlatZinc::AST::Node* n : args->a[0]->getArray()->a) {
    if (n->isIntVar()) {
      order << fg.iv[n->getIntVar()];
    } else if (n->isInt()) {
      int v = n->getInt();
      order << IntVar(fg, v, v);
    } else {
      return none;
    }
  }
  return order;
}


// The variables of the solve item's first int_search annotation, as indices into fg.iv (a
// constant as -1 - its value's index into ``constants``); empty when there is none.
std::vector<int> search_vars(FlatZinc::FlatZincSpace& fg, std::vector<int>& constants) {
  std::vector<int> vars;
  FlatZinc::AST::Array* anns = fg.solveAnnotations();
  if (anns == nullptr || anns->a.empty() || !anns->a[0]->isCall("int_search")) return vars;
  FlatZinc::AST::Array* args = anns->a[0]->getCall("int_search")->args->getArray();
  if (args->a.empty() || !args->a[0]->isArray()) return vars;
  for (FlatZinc::AST::Node* n : args->a[0]->getArray()->a) {
    if (n->isIntVar()) {
      vars.push_back(n->getIntVar());
    } else if (n->isInt()) {
      constants.push_back(n->getInt());
      vars.push_back(-static_cast<int>(constants.size()));
    } else {
      return std::vector<int>();
    }
  }
  return vars;
}

long limit_of(const std::string& token, long none) {
  if (token == "*") return none;
  long v = std::strtol(token.c_str(), nullptr, 10);
  return std::max<long>(Int::Limits::min, std::min<long>(Int::Limits::max, v));
}

// One question (see the comment at the top): the answer line, without its newline.
std::string answer(FlatZinc::FlatZincSpace& root, const std::vector<int>& vars,
                   const std::vector<int>& constants, const std::string& line) {
  std::istringstream in(line);
  bool bounds = !line.empty() && line[0] == '?';
  if (bounds) in.get();
  std::string k, lo, hi;
  auto* space = static_cast<FlatZinc::FlatZincSpace*>(root.clone());
  bool failed = false;
  while (!failed && in >> k >> lo >> hi) {
    long i = std::strtol(k.c_str(), nullptr, 10);
    if (i < 0 || i >= static_cast<long>(vars.size())) continue;
    long l = limit_of(lo, Int::Limits::min), h = limit_of(hi, Int::Limits::max);
    if (vars[i] < 0) {
      long c = constants[-vars[i] - 1];
      failed = c < l || c > h;
    } else {
      rel(*space, space->iv[vars[i]], IRT_GQ, static_cast<int>(l));
      rel(*space, space->iv[vars[i]], IRT_LQ, static_cast<int>(h));
      failed = space->failed();
    }
  }
  std::ostringstream out;
  if (failed || space->status() == SS_FAILED) {
    out << '0';
  } else {
    out << '1';
    for (int v : (bounds ? vars : std::vector<int>())) {
      if (v < 0) {
        out << ' ' << constants[-v - 1] << ' ' << constants[-v - 1];
      } else {
        out << ' ' << space->iv[v].min() << ' ' << space->iv[v].max();
      }
    }
  }
  delete space;
  return out.str();
}

// --check FILE: answer questions about cubes of FILE's model until end of input.
int check(const char* filename, FlatZinc::FlatZincOptions& opt) {
  FlatZinc::Printer p;
  Rnd rnd(static_cast<unsigned int>(opt.seed()));
  FlatZinc::FlatZincSpace* fg = FlatZinc::parse(filename, p, std::cerr, nullptr, rnd);
  if (!fg) return EXIT_FAILURE;
  std::vector<int> constants;
  std::vector<int> vars = search_vars(*fg, constants);
  bool failed = fg->failed() || fg->status() == SS_FAILED;
  std::cout << "ready" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::cout << (failed ? std::string("0") : answer(*fg, vars, constants, line)) << std::endl;
  }
  delete fg;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Support::Timer t_total;
  t_total.start();
  bool checking = argc > 1 && std::strcmp(argv[1], "--check") == 0;
  if (checking) {
    argv[1] = argv[0];  // the rest as if it were the command line
    argv++;
    argc--;
  }
  FlatZinc::FlatZincOptions opt("Gecode/FlatZinc");
  opt.parse(argc, argv);
  if (argc != 2) {
    std::cerr << "Usage: " << argv[0] << " [options] <file>" << std::endl;
    return EXIT_FAILURE;
  }
  const char* filename = argv[1];
  opt.name(filename);
  if (checking) {
    try {
      return check(filename, opt);
    } catch (FlatZinc::Error& e) {
      std::cerr << "Error: " << e.toString() << std::endl;
      return 1;
    }
  }
  FlatZinc::Printer p;
  Rnd rnd(static_cast<unsigned int>(opt.seed()));
  try {
    FlatZinc::FlatZincSpace* fg = FlatZinc::parse(filename, p, std::cerr, nullptr, rnd);
    if (!fg) return EXIT_FAILURE;
    FlatZinc::FlatZincSpace::Meth method = fg->method();
    if (method != FlatZinc::FlatZincSpace::SAT && fg->optVarIsInt() && !fg->failed()) {
      bool minimize = method == FlatZinc::FlatZincSpace::MIN;
      limit.store(minimize ? Int::Limits::max : Int::Limits::min);
      if (read_waiting(minimize)) std::thread(read_bounds, minimize).detach();
      IntVarArgs order = lex_order(*fg);
      ExternalBound::post(*fg, fg->iv[fg->optVar()], order, minimize);
      if (order.size() > 0) {
        std::signal(SIGTERM, on_term);
        std::thread(watchdog).detach();
      }
    }
    fg->createBranchers(p, fg->solveAnnotations(), opt, false, std::cerr);
    fg->shrinkArrays(p);
    if (opt.output()) {
      std::ofstream os(opt.output());
      if (!os.good()) {
        std::cerr << "Could not open file " << opt.output() << " for output." << std::endl;
        return EXIT_FAILURE;
      }
      fg->run(os, p, opt, t_total);
    } else {
      fg->run(std::cout, p, opt, t_total);
    }
    if (opt.mode() == SM_STAT) {
      std::cout << "%%%mzn-stat: boundsTaken=" << taken.load() << "\n%%%mzn-stat-end" << std::endl;
    }
    delete fg;
  } catch (FlatZinc::Error& e) {
    std::cerr << "Error: " << e.toString() << std::endl;
    return 1;
  }
  return 0;
}

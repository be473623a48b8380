"""The virtual cart against the ground truth: accuracy, cost per message, memory.

Run: .venv/bin/python -m pytest bench/bench_carts.py -o python_files='bench_*.py' -s
     -p no:cacheprovider

The seeded shop simulator (`store_bridge/shop_sim.py`) plays shoppers who pick, hesitate,
put back, misplace, rest a hand on a shelf, crowd at one shelf, come as parties; ESPHome-style
noisy lane readings at 10/s; Frigate-style track messages with lost tracks, id switches, late
and repeated messages (and face names in `sub_label`, which must go nowhere). Its messages
go in-process through what the bridge runs: `parse_weight` and a `LaneWatch` per lane
(`core/lanes.py`), `parse_frigate` (`core/tracks.py`) and the `CartBook`
(`core/attribution.py`), ticked every second like the shell does. Nothing else (no SQLite,
no MQTT): this measures the decisions.

1. Accuracy at 5, 20 and 50 shoppers in the store at once (`SEEDS` seeds each, three times
   as many sessions as shoppers): carts exactly right (every SKU's quantity equals what the
   shopper left with), item precision and recall, the share of picks sent to review, and
   units charged (or credited back) to someone whose hand did not make that shelf change:
   each `item_picked`/`item_returned` is traced to the simulator's hands at that lane
   within 1.5 s of the change's `began` — asserted 0 in every run (when unsure, review;
   never guess). Over-charged units (a cart holding more than the shopper left with) are
   asserted to be only put-backs the book did not credit: items put down on a wrong lane,
   and put-backs sent to review or reported as anomalies. Reviews are left open: a reviewed
   pick is in no cart.
   Then the same with crowded arrivals (`CROWDED`): no turnstile spacing, and three shoppers
   checking in at once through gates side by side — binding must not guess, so recall drops
   (their picks go to review) and items charged to someone who did not take them stay 0.
2. Cost: 200 lanes at 10 readings/s and 50 shoppers (50+ tracks): the time to handle each
   message (parse + lane or book), p50/p99/max and messages per second; p99 ≤ 5 ms asserted.
3. Memory: 10,000 sessions through a small shop, each forgotten once it is final (as the
   shell does after storing it), reviews decided by an operator as they come. The memory the
   lanes and the cart book hold (tracemalloc, allocations made in `store_bridge/core/`) after
   2,000 and after 10,000 sessions: asserted not to grow with the sessions.
"""

import statistics
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from store_bridge.core.attribution import CartBook
from store_bridge.core.cart_model import CartNews, NewsKind, ShelfChange, ShelfChangeKind
from store_bridge.core.lanes import LaneWatch, parse_weight
from store_bridge.core.tracks import TrackMessageError, parse_frigate
from store_bridge.shop_plan import CheckIn, CheckOut, Message, Reading, ShopPlan, TrackerMessage
from store_bridge.shop_sim import Simulation, simulate

SEEDS = (1, 2, 3)
CROWDS = (5, 20, 50)
CROWDED = {"back to back": {"gate_gap_s": 0.0}, "three at once": {"gate_gap_s": 0.0, "together": 3}}
"""Crowded arrivals: `ShopPlan` settings (the turnstile's 2.5 s spacing is the default)."""
LANES = 48
"""The accuracy runs' shop: 48 lanes, two per zone (24 shelves)."""
P99_LIMIT_MS = 5.0
TICK = timedelta(seconds=1)
FORGET_AFTER = timedelta(seconds=90)
"""A closed session is final (and forgotten) this long after it left, as the shell does."""


@dataclass(slots=True)
class Run:
    """The cart book fed with one simulation's messages, and what it said."""

    sim: Simulation
    book: CartBook
    watches: dict[str, LaneWatch]
    news: Counter[NewsKind] = field(default_factory=Counter)
    changes: Counter[ShelfChangeKind] = field(default_factory=Counter)
    costs_ns: list[int] = field(default_factory=list)
    messages: int = 0
    ignored: int = 0
    """Readings the shell would ignore (not a lane's weight)."""
    final: dict[str, Counter[str]] = field(default_factory=dict)
    """Carts taken (by SKU) when sessions were forgotten."""
    by_id: dict[str, ShelfChange] = field(default_factory=dict)
    """Every settled change, by id (what news names)."""
    moved: list[CartNews] = field(default_factory=list)
    """Every ``item_picked`` and ``item_returned``."""


def _book(sim: Simulation) -> Run:
    shop = sim.shop
    book = CartBook(shop.products, shop.lanes)
    watches = {lane.topic: LaneWatch(lane) for lane in shop.lanes.values()}
    return Run(sim, book, watches)


def _handle(run: Run, message: Message) -> list[CartNews]:
    """What the shell does with one message (`carts.py`), minus storage and publishing."""
    book = run.book
    match message:
        case Reading(at=at, topic=topic, payload=payload):
            return _reading(run, topic, payload, at)
        case TrackerMessage(payload=payload):
            try:
                sighting = parse_frigate(payload)
            except TrackMessageError:
                return []
            return [] if sighting is None else book.sighting(sighting)
        case CheckIn(at=at, shopper=shopper, zone=zone, party=party):
            return book.session_opened(shopper, zone=zone, party=party, at=at)
        case CheckOut(at=at, shopper=shopper):
            return book.session_closed(shopper, at)
    return []  # pragma: no cover - every message is one of the above


def _reading(run: Run, topic: str, payload: bytes, at: datetime) -> list[CartNews]:
    try:
        grams = parse_weight(payload)
    except ValueError:
        run.ignored += 1
        return []
    change: ShelfChange | None = run.watches[topic].reading(grams, at)
    if change is None:
        return []
    run.changes[change.kind] += 1
    run.by_id[change.id] = change
    return run.book.shelf_change(change)


def _take_cart(run: Run, visit: str) -> None:
    cart = run.book.cart(visit)
    if cart is not None:
        run.final[visit] = Counter({line.sku: line.quantity for line in cart.lines})


def feed(
    run: Run,
    *,
    timed: bool = False,
    forget: bool = False,
    decide: bool = False,
    every: Callable[[Run, int], None] | None = None,
) -> Run:
    """Every message of the simulation into the book, ticking it every second."""
    next_tick: datetime | None = None
    closed: list[tuple[datetime, str]] = []
    left = 0
    book = run.book
    for message in run.sim.messages():
        at = message.at
        if next_tick is None or at >= next_tick:
            _second(run, at, closed if forget else [], decide=decide)
            next_tick = at + TICK
        if timed:
            began = time.perf_counter_ns()
            said = _handle(run, message)
            run.costs_ns.append(time.perf_counter_ns() - began)
        else:
            said = _handle(run, message)
        _count(run, said)
        run.messages += 1
        if isinstance(message, CheckOut):
            closed.append((at + FORGET_AFTER, message.shopper))
            left += 1
            if every is not None:
                every(run, left)
    end = run.sim.end + timedelta(minutes=5)
    _count(run, book.tick(end))
    for visit in run.sim.truth.shoppers:
        if visit not in run.final:
            _take_cart(run, visit)
    return run


def _second(run: Run, at: datetime, closed: list[tuple[datetime, str]], *, decide: bool) -> None:
    """Each second: tick the book; an operator decides the reviews; final carts leave."""
    book = run.book
    _count(run, book.tick(at))
    if decide:
        for review in book.reviews():
            _count(run, book.resolve(review.id, None, at))
    while closed and closed[0][0] <= at:
        _, visit = closed.pop(0)
        _take_cart(run, visit)
        book.forget(visit)


def _count(run: Run, news: list[CartNews]) -> None:
    for item in news:
        run.news[item.kind] += 1
        if item.kind in {NewsKind.ITEM_PICKED, NewsKind.ITEM_RETURNED}:
            run.moved.append(item)


@dataclass(frozen=True, slots=True)
class Accuracy:
    """One run's carts against the truth."""

    shoppers: int
    seed: int
    sessions: int
    exact: float
    precision: float
    recall: float
    review_share: float
    not_taken: int
    """Units charged or credited to someone whose hand did not make that change."""
    overcharged: int
    unexplained: int
    """Over-charged units that are not put-backs the book did not credit."""
    picks: int


def not_theirs(run: Run) -> int:
    """Units picked or returned by news whose shelf change no hand of that shopper made."""
    wrong = 0
    for news in run.moved:
        assert news.change is not None
        change = run.by_id[news.change]
        sign = -1 if news.kind is NewsKind.ITEM_PICKED else 1
        hands = run.sim.truth.hands_at(change.lane, change.began, 1.5)
        if not any(h.shopper == news.visit and h.quantity * sign > 0 for h in hands):
            wrong += news.quantity
    return wrong


def accuracy(run: Run) -> Accuracy:
    """Carts against the truth."""
    truth = run.sim.truth
    exact = hits = charged = owed = overcharged = unexplained = 0
    credited: Counter[str] = Counter()
    for news in run.moved:
        if news.kind is NewsKind.ITEM_RETURNED and news.visit is not None:
            credited[news.visit] += news.quantity
    for shopper in truth.shoppers:
        cart = run.final.get(shopper, Counter())
        real = truth.cart(shopper)
        exact += +cart == real
        hits += sum(min(cart[sku], real[sku]) for sku in cart)
        charged += sum(cart.values())
        owed += sum(real.values())
        excess = sum(max(0, cart[sku] - real[sku]) for sku in cart)
        overcharged += excess
        put_back = -sum(t.quantity for t in truth.takes if t.shopper == shopper and t.quantity < 0)
        uncredited = truth.left_elsewhere[shopper] + max(0, put_back - credited[shopper])
        unexplained += max(0, excess - uncredited)
    picks = run.changes[ShelfChangeKind.PICK]
    return Accuracy(
        shoppers=run.sim.plan.shoppers,
        seed=run.sim.plan.seed,
        sessions=len(truth.shoppers),
        exact=exact / len(truth.shoppers),
        precision=hits / charged if charged else 1.0,
        recall=hits / owed if owed else 1.0,
        review_share=run.news[NewsKind.PICK_REVIEW] / picks if picks else 0.0,
        not_taken=not_theirs(run),
        overcharged=overcharged,
        unexplained=unexplained,
        picks=picks,
    )


def _accuracy_table(**arrivals: float) -> list[Accuracy]:
    rows: list[Accuracy] = []
    for shoppers in CROWDS:
        for seed in SEEDS:
            plan = ShopPlan(shoppers=shoppers, lanes=LANES, seed=seed, **arrivals)  # type: ignore[arg-type]
            rows.append(accuracy(feed(_book(simulate(plan)))))
    _print_table(rows)
    return rows


def test_accuracy_against_the_ground_truth() -> None:
    """Carts against the truth at 5, 20 and 50 shoppers; nobody charged for others' items."""
    rows = _accuracy_table()
    assert all(row.not_taken == 0 for row in rows), "an item charged to someone who never took it"
    assert all(row.unexplained == 0 for row in rows), "over-charged beyond uncredited put-backs"


def test_accuracy_with_crowded_arrivals() -> None:
    """Check-ins back to back, and three at once: binding waits or gives up, never guesses."""
    for name, arrivals in CROWDED.items():
        print(f"\nCrowded arrivals, {name}:", end="")
        rows = _accuracy_table(**arrivals)
        assert all(row.not_taken == 0 for row in rows), f"{name}: charged, not taken"
        assert all(row.unexplained == 0 for row in rows), f"{name}: over-charged"


def _print_table(rows: list[Accuracy]) -> None:
    print()
    print("| shoppers | seed | sessions | picks | carts exactly right | precision | recall "
          "| picks to review | not their hand | over-charged (uncredited put-backs) |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row.shoppers} | {row.seed} | {row.sessions} | {row.picks} | {row.exact:.1%} "
            f"| {row.precision:.1%} | {row.recall:.1%} | {row.review_share:.1%} "
            f"| {row.not_taken} | {row.overcharged} ({row.overcharged - row.unexplained}) |"
        )
    for shoppers in CROWDS:
        mine = [row for row in rows if row.shoppers == shoppers]
        print(
            f"{shoppers} shoppers, {len(mine)} seeds: exactly right "
            f"{statistics.mean(r.exact for r in mine):.1%}, precision "
            f"{statistics.mean(r.precision for r in mine):.1%}, recall "
            f"{statistics.mean(r.recall for r in mine):.1%}, to review "
            f"{statistics.mean(r.review_share for r in mine):.1%}, not their hand "
            f"{sum(r.not_taken for r in mine)}"
        )


def test_cost_per_message_with_200_lanes_and_50_tracks() -> None:
    """Each message's handling time: p99 at most 5 ms."""
    plan = ShopPlan(shoppers=50, sessions=60, lanes=200, lanes_per_zone=4, seed=7)
    run = feed(_book(simulate(plan)), timed=True)
    costs = sorted(run.costs_ns)
    p50, p99 = costs[len(costs) // 2] / 1e6, costs[int(len(costs) * 0.99)] / 1e6
    total_s = sum(costs) / 1e9
    print()
    print(
        f"200 lanes at 10 readings/s, {plan.sessions} sessions (~50 at once): "
        f"{len(costs)} messages in {total_s:.2f} s of handling = {len(costs) / total_s:,.0f}/s; "
        f"per message p50 {p50 * 1000:.1f} µs, p99 {p99 * 1000:.1f} µs, "
        f"max {costs[-1] / 1e6:.2f} ms"
    )
    assert p99 <= P99_LIMIT_MS


def test_memory_does_not_grow_with_forgotten_sessions() -> None:
    """What the core holds after 10,000 sessions is what it held after 2,000."""
    plan = ShopPlan(
        shoppers=20,
        sessions=10_000,
        lanes=4,
        lanes_per_zone=2,
        seed=11,
        stay_s=(20.0, 40.0),
        stops=(1, 1),
    )
    marks: dict[int, int] = {}
    core = [tracemalloc.Filter(inclusive=True, filename_pattern="*/store_bridge/core/*")]

    def _mark(run: Run, sessions: int) -> None:
        if sessions in {2_000, 10_000} and sessions not in marks:
            snapshot = tracemalloc.take_snapshot().filter_traces(core)
            marks[sessions] = sum(stat.size for stat in snapshot.statistics("filename"))
            print(f"  after {sessions} sessions: {marks[sessions] / 1024:.0f} KiB, "
                  f"book {run.book.sizes()}")  # fmt: skip

    tracemalloc.start()
    try:
        print()
        run = feed(_book(simulate(plan)), forget=True, decide=True, every=_mark)
    finally:
        tracemalloc.stop()
    sizes = run.book.sizes()
    print(f"10,000 sessions: {run.messages} messages; the book holds {sizes}")
    assert set(marks) == {2_000, 10_000}
    assert sizes["sessions"] <= plan.shoppers * 4
    # Bounded: what the core holds after 10,000 sessions is what it held after 2,000
    # (give or take the sessions in the store at that moment).
    assert marks[10_000] <= marks[2_000] * 1.5 + 64 * 1024

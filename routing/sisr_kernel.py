"""The compiled core of the ruin-and-recreate polish (``routing.sisr``): SISR in numba.

Slack Induction by String Removals (Christiaens and Vanden Berghe, Transportation Science
2020): remove a few strings of neighbouring visits from neighbouring routes, put the visits
back one by one at their cheapest feasible place (skipping a place now and then, the
"blinks"), and keep the result under simulated annealing. A ruin removes visits from several
routes at once and a recreate may open an unused crew, so the number of routes changes,
which OR-Tools' local search rarely does once routes are full of wide windows (the gap on
long routes, bench/RESULTS.md). It needs tens of thousands of iterations a second: a Python
loop gives a few hundred, numba about 10,000-30,000 on 200 jobs.

State lives in numpy arrays owned by the caller, so the search runs in chunks between which
the caller reads the clock and sets the temperature. Times are the integer seconds of
``routing.schedule``: the earliest schedule, waiting when early, every window a hard bound and
the crew back (or done, without an end location) by the end of its shift.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

BIG = 2**50
"""No bound: wider than any shift, and sums of a few stay far from int64 overflow."""

BLINK_RATE = 0.01
STRING_MAX = 10
AVG_REMOVED = 10
SPLIT_DEPTH = 0.01


@nb.njit(cache=True)
def seed_random(seed: int) -> None:
    """Seed numba's own generator (numpy's global state in compiled code is separate)."""
    np.random.seed(seed)


@nb.njit(cache=True)
def recompute(r: int, st: Any, pr: Any) -> bool:
    """Times, load and cost (legs, weighted lateness and wait) of route ``r`` from its order;
    whether it is feasible.

    ``est[r, i]`` is the earliest start of service at position i, ``lst[r, i]`` the latest
    start that keeps the rest of the route feasible, so a visit fits before position i when
    it gets the next visit there by ``lst[r, i]``.
    """
    routes, rlen, est, lst, load, rcost = st[0], st[1], st[2], st[3], st[4], st[5]
    loc, svc, tw_lo, tw_hi, dem = pr[0], pr[1], pr[2], pr[3], pr[4]
    start_loc, end_loc, sh_lo, sh_hi = pr[5], pr[6], pr[7], pr[8]
    travel, cost_m, deadline, weight, wait = pr[10], pr[11], pr[13], pr[14], pr[15]
    n = rlen[r]
    t = sh_lo[r]
    prev = start_loc[r]
    cost = 0
    ld = 0
    ok = True
    for i in range(n):
        j = routes[r, i]
        a = t + travel[prev, loc[j]]
        s = a if a > tw_lo[j] else tw_lo[j]
        if s > tw_hi[j]:
            ok = False
        est[r, i] = s
        cost += cost_m[prev, loc[j]]
        if s > deadline[j]:
            cost += weight[j] * (s - deadline[j])
        cost += wait[j] * s
        t = s + svc[j]
        prev = loc[j]
        ld += dem[j]
    latest_dep = sh_hi[r]
    if end_loc[r] >= 0:
        cost += cost_m[prev, end_loc[r]]
        latest_dep = sh_hi[r] - travel[prev, end_loc[r]]
    if t > latest_dep:
        ok = False
    for i in range(n - 1, -1, -1):
        j = routes[r, i]
        latest = latest_dep - svc[j]
        lst[r, i] = latest if latest < tw_hi[j] else tw_hi[j]
        if i > 0:
            latest_dep = lst[r, i] - travel[loc[routes[r, i - 1]], loc[j]]
    load[r] = ld
    rcost[r] = cost
    return ok and ld <= pr[9][r]


@nb.njit(cache=True)
def _best_place(
    r: int,
    u: int,
    best: int,
    routes: Any,
    first: int,
    n: int,
    est: Any,
    lst: Any,
    loc: Any,
    svc: Any,
    tw_lo: Any,
    tw_hi: Any,
    start_loc: int,
    end_loc: int,
    sh_lo: int,
    sh_hi: int,
    travel: Any,
    cost_m: Any,
    deadline: Any,
    weight: Any,
    wait: Any,
    late: bool,
) -> tuple[int, int]:
    """The cheapest feasible position from ``first`` on for job ``u`` in route ``r`` (of
    ``n`` visits) if it costs less than ``best``: (added cost, position), or (``best``, -1).

    Positions are tried in route order; once the visit before a position starts after
    ``u``'s window closes, no later position can meet it, so the scan stops there. With SLA
    deadlines or wait costs (``late``) the added cost includes the lateness and wait the
    visit causes: its own and that of the visits it pushes back, followed until waiting for
    a window absorbs the push.
    """
    lu = loc[u]
    found = -1
    for p in range(first, n + 1):
        if p == 0:
            prev = start_loc
            dep = sh_lo
        else:
            pj = routes[r, p - 1]
            prev = loc[pj]
            dep = est[r, p - 1] + svc[pj]
        if dep > tw_hi[u]:
            break
        if np.random.random() < BLINK_RATE:
            continue
        a = dep + travel[prev, lu]
        s = a if a > tw_lo[u] else tw_lo[u]
        if s > tw_hi[u]:
            continue
        done = s + svc[u]
        if p < n:
            nxt = loc[routes[r, p]]
            if done + travel[lu, nxt] > lst[r, p]:
                continue
            d = cost_m[prev, lu] + cost_m[lu, nxt] - cost_m[prev, nxt]
        elif end_loc < 0:
            if done > sh_hi:
                continue
            d = cost_m[prev, lu]
        else:
            if done + travel[lu, end_loc] > sh_hi:
                continue
            d = cost_m[prev, lu] + cost_m[lu, end_loc] - cost_m[prev, end_loc]
        if late and d < best:
            if s > deadline[u]:
                d += weight[u] * (s - deadline[u])
            d += wait[u] * s
            t = done
            at = lu
            for i in range(p, n):
                if d >= best:
                    break
                j = routes[r, i]
                a = t + travel[at, loc[j]]
                moved = a if a > tw_lo[j] else tw_lo[j]
                if moved == est[r, i]:
                    break
                if moved > deadline[j]:
                    was = est[r, i] - deadline[j]
                    d += weight[j] * (moved - deadline[j] - (was if was > 0 else 0))
                d += wait[j] * (moved - est[r, i])
                t = moved + svc[j]
                at = loc[j]
        if d < best:
            best = d
            found = p
    return best, found


@nb.njit(cache=True)
def _touch(r: int, st: Any, bk: Any, touched: Any, tl: Any, ntl: int) -> int:
    """Back route ``r`` up the first time an iteration changes it; the new touched count."""
    if touched[r]:
        return ntl
    routes, rlen, rcost = st[0], st[1], st[5]
    bk_routes, bk_len, bk_cost = bk[0], bk[1], bk[2]
    n = rlen[r]
    bk_routes[r, :n] = routes[r, :n]
    bk_len[r] = n
    bk_cost[r] = rcost[r]
    touched[r] = True
    tl[ntl] = r
    return ntl + 1


@nb.njit(cache=True)
def _remove_string(
    r: int,
    first: int,
    length: int,
    keep_at: int,
    keep: int,
    st: Any,
    route_of: Any,
    removed: Any,
    nrem: int,
) -> int:
    """Take ``length`` visits from position ``first`` out of route ``r``, except ``keep``
    visits starting ``keep_at`` into the string (the split string); the new removed count."""
    routes, rlen = st[0], st[1]
    n = rlen[r]
    w = first
    for i in range(first, n):
        offset = i - first
        inside = offset < length
        kept = keep_at <= offset < keep_at + keep
        j = routes[r, i]
        if inside and not kept:
            removed[nrem] = j
            nrem += 1
            route_of[j] = -1
        else:
            routes[r, w] = j
            w += 1
    rlen[r] = w
    return nrem


@nb.njit(cache=True)
def _ruin(
    st: Any, pr: Any, aux: Any, bk: Any, touched: Any, tl: Any, removed: Any
) -> tuple[int, int]:
    """Remove strings around a random seed visit; (removed count, touched count)."""
    routes, rlen = st[0], st[1]
    nfz, adj, movable = aux[0], aux[1], aux[2]
    route_of = aux[3]
    n_routes = rlen.shape[0]
    used = 0
    served = 0
    for r in range(n_routes):
        k = rlen[r] - nfz[r]
        if k > 0:
            used += 1
            served += k
    if used == 0:
        return 0, 0
    avg_len = served / used
    l_s_max = min(float(STRING_MAX), avg_len)
    k_s_max = 4.0 * AVG_REMOVED / (1.0 + l_s_max) - 1.0
    k_s = int(np.random.random() * k_s_max) + 1
    seed = movable[np.random.randint(movable.shape[0])]
    ntl = 0
    nrem = 0
    ruined = 0
    for step in range(adj.shape[1] + 1):
        if ruined >= k_s:
            break
        c = seed if step == 0 else adj[seed, step - 1]
        r = route_of[c]
        if r < 0 or touched[r]:
            continue
        pos = -1
        for i in range(nfz[r], rlen[r]):
            if routes[r, i] == c:
                pos = i
                break
        if pos < 0:
            continue  # a frozen visit: never moved
        free = rlen[r] - nfz[r]
        l_max_t = min(float(free), l_s_max)
        length = int(np.random.random() * l_max_t) + 1
        keep = 0
        if length < free and np.random.random() < 0.5:
            keep = 1
            while length + keep < free and np.random.random() > SPLIT_DEPTH:
                keep += 1
        span = length + keep
        lo = max(nfz[r], pos - span + 1)
        hi = min(pos, rlen[r] - span)
        first = lo + np.random.randint(hi - lo + 1)
        keep_at = np.random.randint(length + 1) if keep > 0 else 0
        ntl = _touch(r, st, bk, touched, tl, ntl)
        nrem = _remove_string(r, first, span, keep_at, keep, st, route_of, removed, nrem)
        ruined += 1
    return nrem, ntl


@nb.njit(cache=True)
def _order_removed(removed: Any, nrem: int, pr: Any, aux: Any) -> None:
    """Sort the removed visits for the recreate: random, by demand, far or near first
    (weights 4, 4, 2, 1, as in the paper)."""
    part = removed[:nrem]
    pick = np.random.random() * 11.0
    if pick < 4.0:
        np.random.shuffle(part)
        return
    if pick < 8.0:
        key = -pr[4][part].astype(np.float64)
    elif pick < 10.0:
        key = -aux[4][part].astype(np.float64)
    else:
        key = aux[4][part].astype(np.float64)
    key = key + np.random.random(nrem) * 1e-3  # ties in random order
    order = np.argsort(key)
    removed[:nrem] = part[order].copy()


@nb.njit(cache=True)
def _recreate(
    st: Any, pr: Any, aux: Any, bk: Any, touched: Any, tl: Any, ntl: int, removed: Any, nrem: int
) -> tuple[bool, int]:
    """Insert every removed visit at its cheapest feasible place; (all placed, touched)."""
    routes, rlen, est, lst, load = st[0], st[1], st[2], st[3], st[4]
    loc, svc, tw_lo, tw_hi, dem = pr[0], pr[1], pr[2], pr[3], pr[4]
    start_loc, end_loc, sh_lo, sh_hi, cap = pr[5], pr[6], pr[7], pr[8], pr[9]
    travel, cost_m, compat, deadline, weight = pr[10], pr[11], pr[12], pr[13], pr[14]
    wait = pr[15]
    late = aux[6][0] > 0
    nfz, route_of, crew_class = aux[0], aux[3], aux[5]
    n_routes = rlen.shape[0]
    seen = np.zeros(n_routes, dtype=np.bool_)
    for k in range(nrem):
        u = removed[k]
        seen[:] = False
        best = BIG
        best_r = -1
        best_p = -1
        for r in range(n_routes):
            if not compat[r, u] or load[r] + dem[u] > cap[r]:
                continue
            if rlen[r] == 0:
                if seen[crew_class[r]]:
                    continue  # one empty crew of each kind is enough to try
                seen[crew_class[r]] = True
            d, p = _best_place(
                r,
                u,
                best,
                routes,
                nfz[r],
                rlen[r],
                est,
                lst,
                loc,
                svc,
                tw_lo,
                tw_hi,
                start_loc[r],
                end_loc[r],
                sh_lo[r],
                sh_hi[r],
                travel,
                cost_m,
                deadline,
                weight,
                wait,
                late,
            )
            if p >= 0:
                best = d
                best_r = r
                best_p = p
        if best_r < 0:
            return False, ntl
        ntl = _touch(best_r, st, bk, touched, tl, ntl)
        n = rlen[best_r]
        for i in range(n, best_p, -1):
            routes[best_r, i] = routes[best_r, i - 1]
        routes[best_r, best_p] = u
        rlen[best_r] = n + 1
        route_of[u] = best_r
        recompute(best_r, st, pr)
    return True, ntl


@nb.njit(cache=True)
def search(
    iterations: int,
    temp_from: float,
    temp_to: float,
    current: int,
    best: int,
    st: Any,
    pr: Any,
    aux: Any,
    bk: Any,
    best_st: Any,
) -> tuple[int, int, int, int]:
    """Run ``iterations`` ruin-and-recreate steps; (current cost, best cost, recreates
    that could not place every visit, steps accepted).

    The temperature falls geometrically from ``temp_from`` to ``temp_to`` over the chunk. The
    best plan is copied into ``best_st`` (orders and lengths) whenever it improves.
    """
    routes, rlen, rcost = st[0], st[1], st[5]
    route_of = aux[3]
    n_routes = rlen.shape[0]
    touched = np.zeros(n_routes, dtype=np.bool_)
    tl = np.zeros(n_routes, dtype=np.int64)
    removed = np.zeros(route_of.shape[0], dtype=np.int64)
    ratio = temp_to / temp_from if temp_from > 0 else 1.0
    failed = 0
    accepted = 0
    for it in range(iterations):
        temp = temp_from * ratio ** (it / max(1, iterations))
        touched[:] = False
        nrem, ntl = _ruin(st, pr, aux, bk, touched, tl, removed)
        for k in range(ntl):
            recompute(tl[k], st, pr)
        _order_removed(removed, nrem, pr, aux)
        ok, ntl = _recreate(st, pr, aux, bk, touched, tl, ntl, removed, nrem)
        new = current
        if ok:
            for k in range(ntl):
                r = tl[k]
                new += rcost[r] - bk[2][r]
        accept = ok and new < current - temp * np.log(1.0 - np.random.random())
        if not ok:
            failed += 1
        if accept:
            accepted += 1
            current = new
            if new < best:
                best = new
                best_st[0][:, :] = routes
                best_st[1][:] = rlen
            continue
        for k in range(ntl):
            r = tl[k]
            n = bk[1][r]
            routes[r, :n] = bk[0][r, :n]
            rlen[r] = n
            for i in range(n):
                route_of[routes[r, i]] = r
            recompute(r, st, pr)
        for k in range(nrem):
            if route_of[removed[k]] < 0:
                raise AssertionError("a removed visit lost on restore")
    return current, best, failed, accepted

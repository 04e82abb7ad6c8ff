/*
 * arrival.c: one arrival stream on an absolute schedule.
 *
 * The k-th arrival's intended time comes from the schedule, never from
 * when the previous request went out, so a late timer never lowers the
 * rate.  A stream with share s of the fleet rate lambda(t) is the time
 * change of a unit-rate process: the next arrival is where the
 * integrated fleet rate from t_ref reaches `remaining`, with remaining
 * drawn as E / s (E ~ Exp(1) for Poisson, E = 1 for constant spacing).
 *
 * When the rate changes at `now`, the mass already used since t_ref is
 * taken off `remaining` under the old rate and the rest is placed under
 * the new one.  For Poisson the rest is again Exp-distributed (memory-
 * lessness), so the process stays an exact non-homogeneous Poisson
 * process: a step takes effect from the next arrival, never after a
 * stale long gap drawn at the old rate.  For constant spacing the phase
 * is kept, so the stream stays evenly spaced in integrated rate.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arrivald.h"

static double
draw(struct arrival *a)
{
	double e = a->kind == ARRIVALS_POISSON ? rng_exp(&a->rng) : 1.0;

	return e / a->share;
}

void
arrival_init(struct arrival *a, enum arrivals kind, double share, double phase,
    uint64_t seed, uint64_t stream, const struct ratefn *f, double start)
{
	rng_seed(&a->rng, seed, stream);
	a->kind = kind;
	a->share = share > 0 ? share : 1;
	a->t_ref = start;
	if (kind == ARRIVALS_CONSTANT)
		/* phase in (0, 1]: streams i of K start at (i + 1) / K of a gap */
		a->remaining = (phase > 0 ? phase : 1.0) / a->share;
	else
		a->remaining = draw(a);
	a->t_next = ratefn_solve(f, a->t_ref, a->remaining);
}

double
arrival_peek(const struct arrival *a)
{
	return a->t_next;
}

double
arrival_take(struct arrival *a, const struct ratefn *f)
{
	double t = a->t_next;

	a->t_ref = t;
	a->remaining = draw(a);
	a->t_next = ratefn_solve(f, t, a->remaining);
	return t;
}

void
arrival_retime(struct arrival *a, const struct ratefn *old,
    const struct ratefn *new, double now)
{
	if (now > a->t_ref) {
		a->remaining -= ratefn_integral(old, a->t_ref, now);
		if (a->remaining < 0)
			a->remaining = 0;
		a->t_ref = now;
	}
	a->t_next = ratefn_solve(new, a->t_ref, a->remaining);
}

void
arrival_set_kind(struct arrival *a, enum arrivals kind, const struct ratefn *f,
    double now)
{
	if (kind == a->kind)
		return;
	arrival_retime(a, f, f, now);
	a->kind = kind;
	if (kind == ARRIVALS_POISSON)
		a->remaining = draw(a);
	else if (a->remaining > 1.0 / a->share)
		a->remaining = 1.0 / a->share;
	a->t_next = ratefn_solve(f, a->t_ref, a->remaining);
}

/*
 * The lead.  A worker arms its timer this much before an arrival and
 * polls the rest of the way (engine.c).  It follows the timer's own
 * lateness: every LEAD_WAKES early wake-ups, the 99th percentile of how
 * late they came plus 10 us, a loop iteration to see the instant in.
 * It is capped at LEAD_MAX_NS and at the mean gap, so that polling costs
 * at most about lead * rate of a core.
 *
 * The timer's lateness is not the whole story: on a busy host a halted
 * vCPU is run again late, now and then by milliseconds, and a worker
 * that sleeps at all between arrivals pays that in lag.  So the lead
 * also watches what it is for.  Of every LEAD_SEEN arrivals, if more than
 * 1% were seen over LEAD_LATE_NS after their instant, the lead is
 * LEAD_POLL_GAPS mean gaps, at most LEAD_MAX_NS, for the next LEAD_POLL
 * arrivals; then it goes back to look once more.  The worker then sleeps
 * only through the longest gaps (e^-2, 14% of them), which keeps the
 * halts a stall can follow few, where polling every gap held the core:
 * at 10,000/s a worker cost 80 us of CPU an arrival against 85, with the
 * same dispersion at the target (bench/notes/fig2.md).
 *
 * A lead that reaches the gap itself never learns again: the worker
 * polls every gap and the timer, never armed, measures nothing.  At a
 * constant rate every gap is the mean, so one bad stretch would have it
 * polling for good.  After LEAD_POLL arrivals without a wake-up, outside
 * the polling above, the lead is halved (from its cap, down to 10 us, the
 * least it learns) so that the timer is tried again.
 */
void
lead_init(struct lead *l)
{
	l->ns = LEAD_INIT_NS;
	l->n = 0;
	l->seen = l->tardy = l->polling = l->dry = 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void
lead_learn(struct lead *l, int64_t late_ns)
{
	int64_t sorted[LEAD_WAKES];

	l->dry = 0;
	l->late[l->n++] = late_ns > 0 ? late_ns : 0;
	if (l->n < LEAD_WAKES)
		return;
	memcpy(sorted, l->late, sizeof sorted);
	qsort(sorted, LEAD_WAKES, sizeof sorted[0], cmp_i64);
	l->ns = sorted[LEAD_WAKES * 99 / 100] + 10 * NS_PER_US;
	l->n = 0;
}

void
lead_seen(struct lead *l, int64_t late_ns)
{
	if (l->polling > 0) {
		l->polling--;
		return;
	}
	if (++l->dry >= LEAD_POLL) {
		l->ns = (l->ns < LEAD_MAX_NS ? l->ns : LEAD_MAX_NS) / 2;
		if (l->ns < 10 * NS_PER_US)
			l->ns = 10 * NS_PER_US;
		l->dry = 0;
	}
	l->tardy += late_ns > LEAD_LATE_NS;
	if (++l->seen < LEAD_SEEN)
		return;
	if (l->tardy * 100 > LEAD_SEEN) {
		l->polling = LEAD_POLL;
		l->dry = 0;
	}
	l->seen = l->tardy = 0;
}

int64_t
lead_get(const struct lead *l, double rate)
{
	int64_t ns = l->ns < LEAD_MAX_NS ? l->ns : LEAD_MAX_NS;

	if (l->polling > 0) {
		ns = LEAD_MAX_NS;
		if (rate > 0 && LEAD_POLL_GAPS * NS_PER_SEC / rate < ns)
			ns = (int64_t)(LEAD_POLL_GAPS * NS_PER_SEC / rate);
		return ns;
	}

	if (rate > 0 && ns > NS_PER_SEC / rate)
		ns = (int64_t)(NS_PER_SEC / rate);
	return ns;
}

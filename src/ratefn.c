/*
 * ratefn.c: a rate lambda(t) that is piecewise linear between points,
 * and the two things the arrival process needs of it: the integral
 * Lambda(a, b) and its inverse, the b at which Lambda(a, b) reaches a
 * given mass.  Generating arrivals through the inverse of the
 * integrated rate (the time change of a unit-rate process) is exact for
 * any lambda(t): no per-second staircase, no thinning rejections.
 *
 * Invariants: n >= 1, t strictly ascending, r >= 0 and finite.  Before
 * t[0] the rate is r[0].  After t[n-1]: HOLD keeps r[n-1], STOP is 0
 * for ever, LOOP repeats the shape with period t[n-1] - t[0].
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arrivald.h"

static void
ratefn_alloc(struct ratefn *f, int n)
{
	f->n = n;
	f->t = xcalloc(n, sizeof *f->t);
	f->r = xcalloc(n, sizeof *f->r);
}

void
ratefn_const(struct ratefn *f, double rate)
{
	ratefn_alloc(f, 1);
	f->t[0] = 0;
	f->r[0] = rate;
	f->end = RATEFN_HOLD;
}

void
ratefn_ramp(struct ratefn *f, double t0, double r0, double t1, double r1)
{
	if (!(t1 > t0)) {
		ratefn_const(f, r1);
		return;
	}
	ratefn_alloc(f, 2);
	f->t[0] = t0;
	f->r[0] = r0;
	f->t[1] = t1;
	f->r[1] = r1;
	f->end = RATEFN_HOLD;
}

void
ratefn_copy(struct ratefn *dst, const struct ratefn *src)
{
	ratefn_alloc(dst, src->n);
	memcpy(dst->t, src->t, src->n * sizeof *dst->t);
	memcpy(dst->r, src->r, src->n * sizeof *dst->r);
	dst->end = src->end;
}

void
ratefn_free(struct ratefn *f)
{
	free(f->t);
	free(f->r);
	f->t = f->r = NULL;
	f->n = 0;
}

static double
period(const struct ratefn *f)
{
	return f->t[f->n - 1] - f->t[0];
}

static int
looping(const struct ratefn *f)
{
	return f->end == RATEFN_LOOP && f->n > 1 && period(f) > 0;
}

/* the segment [t[i], t[i+1]) holding t, for t inside [t[0], t[n-1]) */
static int
segment(const struct ratefn *f, double t)
{
	int lo = 0, hi = f->n - 1, mid;

	while (hi - lo > 1) {
		mid = (lo + hi) / 2;
		if (f->t[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

double
ratefn_eval(const struct ratefn *f, double t)
{
	int i;
	double u;

	if (t < f->t[0] || f->n == 1)
		return t > f->t[f->n - 1] && f->end == RATEFN_STOP ? 0 : f->r[0];
	if (t >= f->t[f->n - 1]) {
		if (f->end == RATEFN_STOP)
			return 0;
		if (!looping(f))
			return f->r[f->n - 1];
		t = f->t[0] + fmod(t - f->t[0], period(f));
	}
	i = segment(f, t);
	u = (t - f->t[i]) / (f->t[i + 1] - f->t[i]);
	return f->r[i] + u * (f->r[i + 1] - f->r[i]);
}

/* integral over [a, b] with both inside one linear piece */
static double
piece(double ra, double rb, double a, double b)
{
	return 0.5 * (ra + rb) * (b - a);
}

/* integral from t[0] to t within the shape, t in [t[0], t[n-1]] */
static double
cumulative(const struct ratefn *f, double t)
{
	double sum = 0;
	int i;

	for (i = 0; i + 1 < f->n && f->t[i + 1] <= t; i++)
		sum += piece(f->r[i], f->r[i + 1], f->t[i], f->t[i + 1]);
	if (i + 1 < f->n && t > f->t[i])
		sum += piece(f->r[i], ratefn_eval(f, t), f->t[i], t);
	return sum;
}

/* integral from -inf-relative origin: the antiderivative F(t) - F(t[0]) */
static double
antideriv(const struct ratefn *f, double t)
{
	double last = f->t[f->n - 1], whole, k;

	if (t <= f->t[0])
		return (t - f->t[0]) * f->r[0];
	if (t <= last)
		return cumulative(f, t);
	whole = cumulative(f, last);
	if (f->end == RATEFN_STOP)
		return whole;
	if (!looping(f))
		return whole + (t - last) * f->r[f->n - 1];
	k = floor((t - f->t[0]) / period(f));
	return k * whole + cumulative(f, f->t[0] + (t - f->t[0]) - k * period(f));
}

double
ratefn_integral(const struct ratefn *f, double a, double b)
{
	if (b <= a)
		return 0;
	return antideriv(f, b) - antideriv(f, a);
}

/* within a linear piece from time a at rate ra with slope s: the x >= 0
 * with ra x + s x^2 / 2 = m, in the form that does not cancel */
static double
solve_piece(double ra, double s, double m)
{
	double disc;

	if (s == 0)
		return ra > 0 ? m / ra : INFINITY;
	disc = ra * ra + 2 * s * m;
	if (disc < 0)
		return INFINITY; /* a falling rate that reaches 0 first */
	return 2 * m / (ra + sqrt(disc));
}

double
ratefn_solve(const struct ratefn *f, double a, double mass)
{
	double t = a, offset = 0, r, tend, got, s, x, per, whole, k;
	double last = f->t[f->n - 1];
	int i, guard;

	if (mass <= 0)
		return a;
	/* before the shape: constant r[0] */
	if (t < f->t[0]) {
		got = (f->t[0] - t) * f->r[0];
		if (got >= mass)
			return f->r[0] > 0 ? t + mass / f->r[0] : INFINITY;
		mass -= got;
		t = f->t[0];
	}
	/* a loop: fold t into the first period, keep the offset */
	if (looping(f) && t >= last) {
		per = period(f);
		k = floor((t - f->t[0]) / per);
		offset = k * per;
		t -= offset;
		if (t >= last) { /* rounding at a period boundary */
			offset += per;
			t = f->t[0];
		}
	}
	for (guard = 0; guard < 4; guard++) {
		/* walk the pieces of the shape from t */
		while (t < last) {
			i = segment(f, t);
			tend = f->t[i + 1];
			r = ratefn_eval(f, t);
			got = piece(r, f->r[i + 1], t, tend);
			if (got >= mass) {
				s = (f->r[i + 1] - f->r[i]) / (f->t[i + 1] - f->t[i]);
				x = solve_piece(r, s, mass);
				return offset + t + (x < tend - t ? x : tend - t);
			}
			mass -= got;
			t = tend;
		}
		if (f->end == RATEFN_STOP)
			return INFINITY;
		if (!looping(f)) {
			r = f->r[f->n - 1];
			return r > 0 ? offset + t + mass / r : INFINITY;
		}
		/* at the end of a period: skip whole periods, walk the rest */
		per = period(f);
		whole = cumulative(f, last);
		if (whole <= 0)
			return INFINITY;
		k = floor(mass / whole);
		if (k >= 1 && mass - k * whole <= 0)
			k -= 1;
		mass -= k * whole;
		offset += (k + 1) * per;
		t = f->t[0];
	}
	return INFINITY;
}

double
ratefn_end_time(const struct ratefn *f)
{
	return f->end == RATEFN_STOP ? f->t[f->n - 1] : INFINITY;
}

/*
 * users.c: the closed model's users.  A thinking user is an entry in a
 * binary min-heap of (deadline, user); a user in flight is in no
 * structure at all.  Scaling think times is a monotone map of every
 * deadline, so it keeps the heap order and needs no re-heapify.
 */
#include <string.h>

#include "arrivald.h"

void
users_init(struct users *u)
{
	memset(u, 0, sizeof *u);
}

void
users_fini(struct users *u)
{
	uint64_t i;

	if (u->sessions != NULL) {
		for (i = 0; i < u->cap; i++)
			if (u->sessions[i] != NULL)
				session_free(u->sessions[i]);
		free(u->sessions);
	}
	free(u->state);
	free(u->heap);
	memset(u, 0, sizeof *u);
}

void
users_reserve(struct users *u, uint64_t n, int sessions)
{
	if (n > u->cap) {
		u->state = xreallocarray(u->state, n, 1);
		memset(u->state + u->cap, USER_GONE, n - u->cap);
		if (u->sessions != NULL) {
			u->sessions = xreallocarray(u->sessions, n, sizeof *u->sessions);
			memset(u->sessions + u->cap, 0, (n - u->cap) * sizeof *u->sessions);
		}
		u->cap = n;
	}
	if (sessions && u->sessions == NULL && u->cap > 0)
		u->sessions = xcalloc(u->cap, sizeof *u->sessions);
}

static void
swap(struct deadline *a, struct deadline *b)
{
	struct deadline t = *a;

	*a = *b;
	*b = t;
}

void
users_push(struct users *u, uint32_t user, int64_t at)
{
	size_t i;

	if (u->len == u->hcap) {
		u->hcap = u->hcap ? u->hcap * 2 : 1024;
		u->heap = xreallocarray(u->heap, u->hcap, sizeof *u->heap);
	}
	i = u->len++;
	u->heap[i].at = at;
	u->heap[i].user = user;
	while (i > 0 && u->heap[(i - 1) / 2].at > u->heap[i].at) {
		swap(&u->heap[(i - 1) / 2], &u->heap[i]);
		i = (i - 1) / 2;
	}
}

int
users_peek(const struct users *u, int64_t *at)
{
	if (u->len == 0)
		return 0;
	*at = u->heap[0].at;
	return 1;
}

uint32_t
users_pop(struct users *u, int64_t *at)
{
	uint32_t user = u->heap[0].user;
	size_t i = 0, l, m;

	*at = u->heap[0].at;
	u->heap[0] = u->heap[--u->len];
	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < u->len && u->heap[l].at < u->heap[m].at)
			m = l;
		if (l + 1 < u->len && u->heap[l + 1].at < u->heap[m].at)
			m = l + 1;
		if (m == i)
			break;
		swap(&u->heap[i], &u->heap[m]);
		i = m;
	}
	return user;
}

void
users_stretch(struct users *u, int64_t now, double factor)
{
	size_t i;

	for (i = 0; i < u->len; i++)
		if (u->heap[i].at > now)
			u->heap[i].at = now + (int64_t)((double)(u->heap[i].at - now) * factor);
}

void
users_shift(struct users *u, int64_t delta)
{
	size_t i;

	for (i = 0; i < u->len; i++)
		u->heap[i].at += delta;
}

void
users_clear(struct users *u)
{
	size_t i;

	for (i = 0; i < u->len; i++)
		u->state[u->heap[i].user] = USER_GONE;
	u->len = 0;
}

size_t
users_bytes(const struct users *u)
{
	return u->cap * (1 + (u->sessions ? sizeof *u->sessions : 0)) +
	    u->hcap * sizeof *u->heap;
}

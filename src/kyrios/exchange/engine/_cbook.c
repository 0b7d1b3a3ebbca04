/*
 * kyrios.exchange.engine._cbook: the order book of `book.py`, in C.
 *
 * Same commands, same events (the named tuples of events.py, built directly with tp_alloc), same
 * rejection codes and sentences (the rare rejection paths call rejections.py), same seq numbering.
 * The Python book is the specification; tests/exchange/engine/test_cbook.py runs both side by side.
 *
 * Data structures
 * ---------------
 * - COrder: one resting order, a plain C struct (PyMem_Malloc). It holds strong references to its
 *   order id, user id, side object and client order id (NULL when None); prices and quantities are
 *   int64. Resting orders are not Python objects, so the cyclic GC never scans them: a deep book
 *   costs the collector nothing.
 * - Level: the FIFO queue of one price, an intrusive doubly linked list of COrders (head trades
 *   first) plus the open total. Cancels unlink in O(1), so a level never holds dead orders.
 * - BookSide: the side's levels in an array sorted by ascending signed key (bids +price, asks
 *   -price), as in levels.py: the best level is the last one, popping it is O(1); a new or emptied
 *   level in the middle costs a memmove of a few hundred pointers at most.
 * - Table: open addressing (linear probing, tombstones, load <= 2/3) of COrder pointers, used twice:
 *   by order id, and by (user id, client order id). Keys are compared with the cached hash, then
 *   identity, then ==, like a dict. Ids must be hashable objects whose __eq__ does not touch the
 *   book (the engine's ids are int or str).
 * - finished / _finished_older: real dicts {order_id: RejectCode}, exactly as in book.py.
 *
 * Enum arguments: a side, time in force or STP mode is accepted when it is one of the members
 * imported below (pointer comparison); anything else goes through arguments.py once, which maps a
 * plain value ("buy") to its member or raises, before the command changes anything. So every
 * branch on a side or STP mode below sees one of these pointers, and the STP switch ends in an
 * error rather than an "else" that would take an unknown value for some mode.
 *
 * Bounds: prices are 1 .. 2**62-1 cents (keys stay above the "any price" sentinel -2**62 of a market
 * order); a higher price, which the Python book would accept, is rejected with INVALID_PRICE.
 * Quantities are bounded by max_quantity, which must fit an int64.
 *
 * Refcount discipline: every PyObject* field of a COrder or the Book is a strong reference, taken
 * when it is stored and released when the order is freed or the book is deallocated. Items put in
 * an event tuple are new references (PyTuple_SET_ITEM steals them). Arguments are borrowed.
 * Functions returning int return -1 with an exception set on error; int64 results use -1 likewise.
 * An error in the middle of a command (only MemoryError in practice) may leave that command's
 * events incomplete, as an exception in the Python book would.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#define PRICE_MAX ((int64_t)0x3FFFFFFFFFFFFFFFLL) /* 2**62 - 1 */
#define ANY_PRICE (-((int64_t)1 << 62))            /* limit key of a market order without protection */

/* ------------------------------------------------------------------ imported Python objects */
/* Strong references held for the life of the process (single-phase module init). */

static PyObject *SIDE_BUY, *SIDE_SELL, *TYPE_LIMIT, *TYPE_MARKET, *TIF_GTC, *TIF_IOC;
static PyObject *STP_NONE, *STP_CANCEL_NEWEST, *STP_CANCEL_OLDEST, *STP_CANCEL_BOTH, *STP_DECREMENT;
static PyObject *REASON_REQUESTED, *REASON_SELF_TRADE, *REASON_NO_LIQUIDITY, *REASON_IOC;
static PyObject *CODE_FILLED, *CODE_CANCELED, *CODE_INVALID_PRICE, *CODE_UNKNOWN_ORDER, *CODE_NOT_OWNER;
/* 1 when the C copies of the cancel-rejection sentences below were checked at import to equal
 * rejections.py's; 0 makes the book call rejections.py for them (as for every other rejection). */
static int C_SENTENCES;
static PyTypeObject *EV_ACCEPTED, *EV_REJECTED, *EV_TRADE, *EV_CANCELED, *EV_REDUCED, *EV_CANCEL_REJECTED,
    *EV_LEVEL;
static PyObject *ORDER_CLS, *BOOKSIDE_CLS, *PRICELEVEL_CLS, *DEPTH_CLS;
static PyObject *REJ_ORDER_PROBLEM, *REJ_DUP_ID, *REJ_DUP_CLIENT, *REJ_HALTED, *REJ_NOT_OPEN, *REJ_NOT_OWNER,
    *REJ_UNKNOWN_CLIENT;
/* arguments.py: a member or plain value -> the member, else TypeError / ValueError */
static PyObject *ARG_SIDE, *ARG_TIF, *ARG_STP, *ARG_REASON;
/* interned names */
static PyObject *S_order_id, *S_user_id, *S_side, *S_price_cents, *S_quantity, *S_remaining, *S_priority,
    *S_client_order_id, *S_time_in_force, *S_stp, *S_protection_price_cents, *S_reason, *S_order, *S_levels,
    *S_price_required, *S_tick_size_cents, *S_max_quantity, *S_keys, *S_orders, *S_append, *S_default_stp;

/* ------------------------------------------------------------------ C structures */

struct Level;

typedef struct COrder {
    struct COrder *prev, *next; /* FIFO neighbours in the level; head trades first */
    struct Level *level;
    PyObject *order_id, *user_id, *side; /* strong refs; side is the object given at placement */
    PyObject *client_order_id;           /* strong ref, or NULL for None */
    Py_hash_t id_hash, client_hash;      /* client_hash only meaningful with a client order id */
    int64_t price, quantity, remaining, priority;
} COrder;

typedef struct Level {
    int64_t price, key, quantity; /* quantity: sum of the remaining of the orders in the queue (> 0) */
    COrder *head, *tail;
    PyObject *price_obj; /* strong ref: the price as an int, shared by this level's events */
} Level;

typedef struct {
    Level **levels; /* ascending by key; best last */
    Py_ssize_t n, cap;
    int sign;       /* +1 bids, -1 asks */
    PyObject *side; /* borrowed: SIDE_BUY or SIDE_SELL (module lifetime) */
} BookSide;

typedef struct {
    Py_hash_t hash;
    COrder *order; /* NULL: empty slot; TOMB: deleted */
} Slot;

typedef struct {
    Slot *slots;
    size_t cap; /* power of two, or 0 before the first insert */
    int shift;  /* 64 - log2(cap), for Fibonacci hashing */
    size_t used, filled; /* live entries; live + tombstones */
} Table;

#define TOMB ((COrder *)1)

typedef struct {
    PyObject_HEAD
    PyObject *symbol, *tick_obj, *max_obj; /* as given; used in rejection sentences */
    int64_t tick, max_quantity, seq, finished_memory;
    int halted;
    PyObject *default_stp; /* borrowed: one of the STP_* members (module lifetime) */
    PyObject *events;                   /* list of events since the last take_events() */
    PyObject *finished, *finished_older; /* dict order_id -> RejectCode */
    BookSide bids, asks;
    Table by_id, by_client;
} Book;

/* ------------------------------------------------------------------ hash tables */

static inline size_t
slot_index(const Table *t, Py_hash_t h)
{
    return (size_t)(((uint64_t)h * 0x9E3779B97F4A7C15ULL) >> t->shift);
}

static int
table_resize(Table *t)
{
    size_t cap = 16;
    int bits = 4;
    while (cap < (t->used + 1) * 3) {
        cap <<= 1;
        bits++;
    }
    Slot *slots = PyMem_Calloc(cap, sizeof(Slot));
    if (!slots) {
        PyErr_NoMemory();
        return -1;
    }
    Table fresh = {slots, cap, 64 - bits, t->used, t->used};
    for (size_t i = 0; i < t->cap; i++) {
        COrder *o = t->slots[i].order;
        if (o && o != TOMB) {
            size_t j = slot_index(&fresh, t->slots[i].hash);
            while (slots[j].order)
                j = (j + 1) & (cap - 1);
            slots[j] = t->slots[i];
        }
    }
    PyMem_Free(t->slots);
    *t = fresh;
    return 0;
}

/* Insert an order known not to be in the table. */
static int
table_insert(Table *t, COrder *o, Py_hash_t h)
{
    if ((t->filled + 1) * 3 >= t->cap * 2 && table_resize(t) < 0)
        return -1;
    size_t mask = t->cap - 1, i = slot_index(t, h);
    while (t->slots[i].order && t->slots[i].order != TOMB)
        i = (i + 1) & mask;
    if (!t->slots[i].order)
        t->filled++;
    t->slots[i].hash = h;
    t->slots[i].order = o;
    t->used++;
    return 0;
}

/* Remove this very order (found by pointer, no Python comparison); absent is a no-op (a client
 * order id entry that a later restore() took over). */
static void
table_remove(Table *t, COrder *o, Py_hash_t h)
{
    if (!t->cap)
        return;
    size_t mask = t->cap - 1, i = slot_index(t, h);
    for (COrder *s; (s = t->slots[i].order) != o; i = (i + 1) & mask) {
        if (!s)
            return;
    }
    t->slots[i].order = TOMB;
    t->used--;
}

/* The slot of the order with this id, or NULL (with *err set to -1 on a comparison error). */
static Slot *
id_lookup(Table *t, PyObject *key, Py_hash_t h, int *err)
{
    *err = 0;
    if (!t->cap)
        return NULL;
    size_t mask = t->cap - 1, i = slot_index(t, h);
    for (;;) {
        Slot *s = &t->slots[i];
        COrder *o = s->order;
        if (!o)
            return NULL;
        if (o != TOMB && s->hash == h) {
            if (o->order_id == key)
                return s;
            int eq = PyObject_RichCompareBool(o->order_id, key, Py_EQ);
            if (eq < 0) {
                *err = -1;
                return NULL;
            }
            if (eq)
                return s;
        }
        i = (i + 1) & mask;
    }
}

static Slot *
client_lookup(Table *t, PyObject *user, PyObject *coid, Py_hash_t h, int *err)
{
    *err = 0;
    if (!t->cap)
        return NULL;
    size_t mask = t->cap - 1, i = slot_index(t, h);
    for (;;) {
        Slot *s = &t->slots[i];
        COrder *o = s->order;
        if (!o)
            return NULL;
        if (o != TOMB && s->hash == h) {
            int eq = o->user_id == user ? 1 : PyObject_RichCompareBool(o->user_id, user, Py_EQ);
            if (eq > 0)
                eq = o->client_order_id == coid ? 1 : PyObject_RichCompareBool(o->client_order_id, coid, Py_EQ);
            if (eq < 0) {
                *err = -1;
                return NULL;
            }
            if (eq)
                return s;
        }
        i = (i + 1) & mask;
    }
}

/* hash((user, client_order_id)) stand-in: only equality decides membership, so any mix will do. */
static Py_hash_t
client_hash(PyObject *user, PyObject *coid)
{
    Py_hash_t hu = PyObject_Hash(user);
    if (hu == -1)
        return -1;
    Py_hash_t hc = PyObject_Hash(coid);
    if (hc == -1)
        return -1;
    Py_hash_t h = (Py_hash_t)(((Py_uhash_t)hu * 1000003U) ^ (Py_uhash_t)hc);
    return h == -1 ? -2 : h;
}

/* ------------------------------------------------------------------ orders and levels */

static void
free_order(COrder *o)
{
    Py_DECREF(o->order_id);
    Py_DECREF(o->user_id);
    Py_DECREF(o->side);
    Py_XDECREF(o->client_order_id);
    PyMem_Free(o);
}

static void
level_append(Level *level, COrder *o)
{
    o->level = level;
    o->next = NULL;
    o->prev = level->tail;
    if (level->tail)
        level->tail->next = o;
    else
        level->head = o;
    level->tail = o;
}

static void
level_unlink(Level *level, COrder *o)
{
    if (o->prev)
        o->prev->next = o->next;
    else
        level->head = o->next;
    if (o->next)
        o->next->prev = o->prev;
    else
        level->tail = o->prev;
}

/* Index of the first level with key >= `key` (binary search). */
static Py_ssize_t
side_position(const BookSide *s, int64_t key)
{
    Py_ssize_t lo = 0, hi = s->n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (s->levels[mid]->key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static Level *
side_find(const BookSide *s, int64_t key)
{
    if (s->n && s->levels[s->n - 1]->key == key) /* the best level: the common case */
        return s->levels[s->n - 1];
    Py_ssize_t i = side_position(s, key);
    return i < s->n && s->levels[i]->key == key ? s->levels[i] : NULL;
}

/* The level at `price`, created (empty) if missing. */
static Level *
side_get_or_add(BookSide *s, int64_t price)
{
    int64_t key = price * s->sign;
    Py_ssize_t i = side_position(s, key);
    if (i < s->n && s->levels[i]->key == key)
        return s->levels[i];
    if (s->n == s->cap) {
        Py_ssize_t cap = s->cap ? s->cap * 2 : 16;
        Level **grown = PyMem_Realloc(s->levels, (size_t)cap * sizeof(Level *));
        if (!grown) {
            PyErr_NoMemory();
            return NULL;
        }
        s->levels = grown;
        s->cap = cap;
    }
    Level *level = PyMem_Calloc(1, sizeof(Level));
    if (!level) {
        PyErr_NoMemory();
        return NULL;
    }
    if (!(level->price_obj = PyLong_FromLongLong(price))) {
        PyMem_Free(level);
        return NULL;
    }
    level->price = price;
    level->key = key;
    memmove(&s->levels[i + 1], &s->levels[i], (size_t)(s->n - i) * sizeof(Level *));
    s->levels[i] = level;
    s->n++;
    return level;
}

static void
free_level(Level *level)
{
    Py_DECREF(level->price_obj);
    PyMem_Free(level);
}

static void
side_remove(BookSide *s, Level *level)
{
    Py_ssize_t i = s->n - 1;
    if (s->levels[i] != level) {
        i = side_position(s, level->key);
        memmove(&s->levels[i], &s->levels[i + 1], (size_t)(s->n - i - 1) * sizeof(Level *));
    }
    s->n--;
    free_level(level);
}

/* Take an order out of the indexes (not out of its level) and record how it finished. */
static int
forget_order(Book *b, COrder *o, PyObject *code)
{
    table_remove(&b->by_id, o, o->id_hash);
    if (o->client_order_id)
        table_remove(&b->by_client, o, o->client_hash);
    return PyDict_SetItem(b->finished, o->order_id, code);
}

/* ------------------------------------------------------------------ events */

/* A new event of `type` with `n` items still to set: tuple.__new__ without the Python call. */
#define EVENT(var, type, n)                                                                        \
    PyObject *var = (type)->tp_alloc((type), (n));                                                \
    if (!var)                                                                                      \
        return -1
#define SET_NEW(t, i, expr)                                                                        \
    do {                                                                                           \
        PyObject *v_ = (expr);                                                                     \
        if (!v_) {                                                                                 \
            Py_DECREF(t);                                                                          \
            return -1;                                                                             \
        }                                                                                          \
        PyTuple_SET_ITEM((t), (i), v_);                                                            \
    } while (0)
#define SET_REF(t, i, obj) PyTuple_SET_ITEM((t), (i), Py_NewRef(obj))
#define INT(v) PyLong_FromLongLong(v)

/* Append a finished event to the book's list, consuming the reference.
 *
 * Events are untracked by the cyclic GC: their items are ids (int/str), ints, strings and
 * module-level enum members, so an event can never be part of a reference cycle (CPython's
 * collector untracks plain tuples of untracked items for the same reason). This keeps the
 * generation-0 collections that event allocations trigger from re-scanning every event. */
static int
append_event(Book *b, PyObject *event)
{
    PyObject_GC_UnTrack(event);
    int rc = PyList_Append(b->events, event);
    Py_DECREF(event);
    return rc;
}

static int
emit_accepted(Book *b, int64_t seq, PyObject *id, PyObject *user, PyObject *side, PyObject *type,
              PyObject *price, PyObject *quantity)
{
    EVENT(e, EV_ACCEPTED, 7);
    SET_NEW(e, 0, INT(seq));
    SET_REF(e, 1, id);
    SET_REF(e, 2, user);
    SET_REF(e, 3, side);
    SET_REF(e, 4, type);
    SET_REF(e, 5, price);
    SET_REF(e, 6, quantity);
    return append_event(b, e);
}

static int
emit_trade(Book *b, PyObject *maker_id, PyObject *taker_id, PyObject *maker_user, PyObject *taker_user,
           PyObject *side, PyObject *price, int64_t quantity)
{
    EVENT(e, EV_TRADE, 8);
    SET_NEW(e, 0, INT(b->seq));
    SET_REF(e, 1, maker_id);
    SET_REF(e, 2, taker_id);
    SET_REF(e, 3, maker_user);
    SET_REF(e, 4, taker_user);
    SET_REF(e, 5, side);
    SET_REF(e, 6, price);
    SET_NEW(e, 7, INT(quantity));
    return append_event(b, e);
}

/* OrderCanceled or OrderReduced: (seq, order_id, user_id, reason | reduced_by, remaining). */
static int
emit_canceled(Book *b, int64_t seq, PyObject *id, PyObject *user, PyObject *reason, int64_t remaining)
{
    EVENT(e, EV_CANCELED, 5);
    SET_NEW(e, 0, INT(seq));
    SET_REF(e, 1, id);
    SET_REF(e, 2, user);
    SET_REF(e, 3, reason);
    SET_NEW(e, 4, INT(remaining));
    return append_event(b, e);
}

static int
emit_reduced(Book *b, PyObject *id, PyObject *user, int64_t by, int64_t remaining)
{
    EVENT(e, EV_REDUCED, 5);
    SET_NEW(e, 0, INT(b->seq));
    SET_REF(e, 1, id);
    SET_REF(e, 2, user);
    SET_NEW(e, 3, INT(by));
    SET_NEW(e, 4, INT(remaining));
    return append_event(b, e);
}

static int
emit_level(Book *b, int64_t seq, PyObject *side, PyObject *price, int64_t quantity)
{
    EVENT(e, EV_LEVEL, 4);
    SET_NEW(e, 0, INT(seq));
    SET_REF(e, 1, side);
    SET_REF(e, 2, price);
    SET_NEW(e, 3, INT(quantity));
    return append_event(b, e);
}

/* OrderRejected / CancelRejected (seq, order_id, user_id, *problem); takes the problem reference. */
static int
emit_rejection(Book *b, PyTypeObject *type, PyObject *id, PyObject *user, PyObject *problem)
{
    if (!problem)
        return -1;
    if (!PyTuple_Check(problem) || PyTuple_GET_SIZE(problem) != 2) {
        Py_DECREF(problem);
        PyErr_SetString(PyExc_SystemError, "a rejection must be a (code, reason) pair");
        return -1;
    }
    PyObject *e = type->tp_alloc(type, 5); /* not EVENT(): `problem` must be released on failure */
    if (!e) {
        Py_DECREF(problem);
        return -1;
    }
    PyObject *seq = INT(++b->seq);
    if (!seq) {
        Py_DECREF(e);
        Py_DECREF(problem);
        return -1;
    }
    PyTuple_SET_ITEM(e, 0, seq);
    SET_REF(e, 1, id);
    SET_REF(e, 2, user);
    SET_REF(e, 3, PyTuple_GET_ITEM(problem, 0));
    SET_REF(e, 4, PyTuple_GET_ITEM(problem, 1));
    Py_DECREF(problem);
    return append_event(b, e);
}

/* ------------------------------------------------------------------ argument parsing */

/* Fill out[0..nnames) with borrowed arguments by position and keyword; NULL for omitted ones. */
static int
parse_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
           PyObject *const *names, Py_ssize_t nnames, Py_ssize_t nrequired, PyObject **out)
{
    if (nargs > nnames) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd positional arguments (%zd given)", fname, nnames,
                     nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nnames; i++)
        out[i] = i < nargs ? args[i] : NULL;
    if (kwnames) {
        Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t k = 0; k < nkw; k++) {
            PyObject *key = PyTuple_GET_ITEM(kwnames, k);
            Py_ssize_t j = 0;
            while (j < nnames && key != names[j] && PyUnicode_Compare(key, names[j]) != 0)
                j++;
            if (j == nnames) {
                PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname, key);
                return -1;
            }
            if (out[j]) {
                PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%U'", fname, key);
                return -1;
            }
            out[j] = args[nargs + k];
        }
    }
    for (Py_ssize_t i = 0; i < nrequired; i++) {
        if (!out[i]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%U'", fname, names[i]);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ enum arguments */

/* `value` as one of `members` (borrowed, module lifetime): `convert` (an arguments.py function,
 * called with `argument`, the parameter's name, when that is not NULL) maps a plain value to its
 * member or raises. NULL with that exception set otherwise. */
static PyObject *
to_member(PyObject *convert, PyObject *value, PyObject *argument, PyObject *const *members, int count)
{
    PyObject *member = PyObject_CallFunctionObjArgs(convert, value, argument, NULL);
    if (!member)
        return NULL;
    Py_DECREF(member); /* the enum class keeps it alive, and so do the module's references */
    for (int i = 0; i < count; i++) {
        if (member == members[i])
            return members[i];
    }
    PyErr_Format(PyExc_SystemError, "_cbook does not know the member %R", member);
    return NULL;
}

static inline PyObject *
as_side(PyObject *side)
{
    if (side == SIDE_BUY || side == SIDE_SELL)
        return side;
    PyObject *members[] = {SIDE_BUY, SIDE_SELL};
    return to_member(ARG_SIDE, side, NULL, members, 2);
}

static inline PyObject *
as_time_in_force(PyObject *tif)
{
    if (tif == TIF_GTC || tif == TIF_IOC)
        return tif;
    PyObject *members[] = {TIF_GTC, TIF_IOC};
    return to_member(ARG_TIF, tif, NULL, members, 2);
}

/* NULL or None means the book's default. */
static inline PyObject *
as_stp(Book *b, PyObject *stp)
{
    if (!stp || stp == Py_None)
        return b->default_stp;
    if (stp == STP_CANCEL_NEWEST || stp == STP_NONE || stp == STP_DECREMENT || stp == STP_CANCEL_OLDEST ||
        stp == STP_CANCEL_BOTH)
        return stp;
    PyObject *members[] = {STP_NONE, STP_CANCEL_NEWEST, STP_CANCEL_OLDEST, STP_CANCEL_BOTH, STP_DECREMENT};
    return to_member(ARG_STP, stp, NULL, members, 5);
}

/* ------------------------------------------------------------------ validation helpers */

/* 1 if `v` is an exact int in 1..limit (limit >= 1), 0 if not (including ints beyond int64). */
static int
positive_int_upto(PyObject *v, int64_t limit, int64_t *out)
{
    if (!PyLong_CheckExact(v))
        return 0;
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || x <= 0 || x > limit)
        return 0;
    *out = x;
    return 1;
}

/* 1 if the price is valid for this book (exact int, positive, on the tick, <= PRICE_MAX). */
static int
valid_price(Book *b, PyObject *v, int64_t *out)
{
    return positive_int_upto(v, PRICE_MAX, out) && *out % b->tick == 0;
}

/* Membership of an order id among open and recently finished orders: 1, 0 or -1 on error. */
static int
id_used(Book *b, PyObject *id, Py_hash_t h)
{
    int err;
    if (id_lookup(&b->by_id, id, h, &err))
        return 1;
    if (err)
        return -1;
    int r = PyDict_Contains(b->finished, id);
    if (r)
        return r;
    return PyDict_Contains(b->finished_older, id);
}

/* rejections.not_open(order_id, symbol, finished): `finished` is borrowed and may be NULL. In C
 * because one cancel in five of the benchmark's shallow stream is refused; see C_SENTENCES. */
static PyObject *
not_open(Book *b, PyObject *id, PyObject *finished)
{
    if (!C_SENTENCES)
        return PyObject_CallFunctionObjArgs(REJ_NOT_OPEN, id, b->symbol, finished ? finished : Py_None, NULL);
    PyObject *code, *reason;
    if (finished == CODE_FILLED || finished == CODE_CANCELED) {
        code = finished;
        reason = PyUnicode_FromFormat(finished == CODE_FILLED ? "order %R is already filled"
                                                              : "order %R is already canceled",
                                      id);
    }
    else {
        code = CODE_UNKNOWN_ORDER;
        reason = PyUnicode_FromFormat("there is no open order %R in %S", id, b->symbol);
    }
    if (!reason)
        return NULL;
    PyObject *pair = PyTuple_Pack(2, code, reason);
    Py_DECREF(reason);
    return pair;
}

/* rejections.not_owner(order_id). */
static PyObject *
not_owner(PyObject *id)
{
    if (!C_SENTENCES)
        return PyObject_CallOneArg(REJ_NOT_OWNER, id);
    PyObject *reason = PyUnicode_FromFormat("order %R belongs to another user", id);
    if (!reason)
        return NULL;
    PyObject *pair = PyTuple_Pack(2, CODE_NOT_OWNER, reason);
    Py_DECREF(reason);
    return pair;
}

/* The (code, reason) of a refused new order, as book.py's _reject computes it. New reference. */
static PyObject *
order_problem(Book *b, PyObject *id, PyObject *user, PyObject *quantity, PyObject *price, PyObject *coid,
              int price_required)
{
    if (b->halted)
        return PyObject_CallOneArg(REJ_HALTED, b->symbol);
    PyObject *args[] = {quantity, price, price_required ? Py_True : Py_False, b->tick_obj, b->max_obj};
    PyObject *kwnames = PyTuple_Pack(3, S_price_required, S_tick_size_cents, S_max_quantity);
    if (!kwnames)
        return NULL;
    PyObject *problem = PyObject_Vectorcall(REJ_ORDER_PROBLEM, args, 2, kwnames);
    Py_DECREF(kwnames);
    if (problem != Py_None)
        return problem;
    Py_DECREF(problem);
    if (price != Py_None) { /* an on-tick price above PRICE_MAX: only this book refuses it */
        int64_t p;
        if (!valid_price(b, price, &p)) {
            PyObject *reason =
                PyUnicode_FromFormat("price %S is above the maximum of %lld cents", price, (long long)PRICE_MAX);
            if (!reason)
                return NULL;
            PyObject *pair = PyTuple_Pack(2, CODE_INVALID_PRICE, reason);
            Py_DECREF(reason);
            return pair;
        }
    }
    Py_hash_t h = PyObject_Hash(id);
    if (h == -1)
        return NULL;
    int used = id_used(b, id, h);
    if (used < 0)
        return NULL;
    if (used)
        return PyObject_CallOneArg(REJ_DUP_ID, id);
    Py_hash_t ch = client_hash(user, coid);
    if (ch == -1)
        return NULL;
    int err;
    Slot *s = client_lookup(&b->by_client, user, coid, ch, &err);
    if (!s) {
        if (!err)
            PyErr_SetString(PyExc_SystemError, "rejected order without a problem");
        return NULL;
    }
    return PyObject_CallFunctionObjArgs(REJ_DUP_CLIENT, coid, s->order->order_id, NULL);
}

/* The identity checks shared by both order types; 1 = acceptable, 0 = reject, -1 = error.
 * Fills the hashes needed to index the order if it comes to rest. */
static int
identity_ok(Book *b, PyObject *id, PyObject *user, PyObject *coid, Py_hash_t *id_hash, Py_hash_t *ch)
{
    if (b->halted)
        return 0;
    Py_hash_t h = PyObject_Hash(id);
    if (h == -1)
        return -1;
    *id_hash = h;
    int used = id_used(b, id, h);
    if (used)
        return used < 0 ? -1 : 0;
    if (coid != Py_None) {
        Py_hash_t c = client_hash(user, coid);
        if (c == -1)
            return -1;
        *ch = c;
        int err;
        if (client_lookup(&b->by_client, user, coid, c, &err))
            return 0;
        if (err)
            return -1;
    }
    return 1;
}

/* ------------------------------------------------------------------ matching */

static int
cancel_taker(Book *b, PyObject *id, PyObject *user, PyObject *reason, int64_t remaining)
{
    if (emit_canceled(b, ++b->seq, id, user, reason, remaining) < 0)
        return -1;
    return PyDict_SetItem(b->finished, id, CODE_CANCELED);
}

/* Take `by` off the maker at the head of `level`; at zero it is canceled and leaves the queue. */
static int
reduce_maker(Book *b, Level *level, COrder *maker, int64_t by)
{
    maker->remaining -= by;
    level->quantity -= by;
    b->seq++;
    if (maker->remaining)
        return emit_reduced(b, maker->order_id, maker->user_id, by, maker->remaining);
    level_unlink(level, maker);
    int rc = forget_order(b, maker, CODE_CANCELED);
    if (rc == 0)
        rc = emit_canceled(b, b->seq, maker->order_id, maker->user_id, REASON_SELF_TRADE, by);
    free_order(maker);
    return rc;
}

/* The taker's STP mode against a maker of the same user; the taker's new remaining (0 = canceled). */
static int64_t
prevent_self_trade(Book *b, Level *level, COrder *maker, PyObject *taker_id, PyObject *taker_user,
                   int64_t taker_remaining, PyObject *stp)
{
    if (stp == STP_CANCEL_NEWEST)
        return cancel_taker(b, taker_id, taker_user, REASON_SELF_TRADE, taker_remaining) < 0 ? -1 : 0;
    int64_t maker_remaining = maker->remaining;
    if (stp == STP_DECREMENT) {
        int64_t overlap = maker_remaining < taker_remaining ? maker_remaining : taker_remaining;
        if (reduce_maker(b, level, maker, overlap) < 0)
            return -1;
        taker_remaining -= overlap;
        if (!taker_remaining)
            return cancel_taker(b, taker_id, taker_user, REASON_SELF_TRADE, overlap) < 0 ? -1 : 0;
        b->seq++;
        return emit_reduced(b, taker_id, taker_user, overlap, taker_remaining) < 0 ? -1 : taker_remaining;
    }
    if (stp == STP_CANCEL_OLDEST)
        return reduce_maker(b, level, maker, maker_remaining) < 0 ? -1 : taker_remaining;
    if (stp == STP_CANCEL_BOTH) {
        if (reduce_maker(b, level, maker, maker_remaining) < 0)
            return -1;
        return cancel_taker(b, taker_id, taker_user, REASON_SELF_TRADE, taker_remaining) < 0 ? -1 : 0;
    }
    PyErr_Format(PyExc_SystemError, "no self-trade prevention %R", stp); /* as_stp() let nothing else in */
    return -1;
}

/* matching.match: trade while the best opposite key is >= limit_key; what is left, or -1. */
static int64_t
match(Book *b, BookSide *opposite, PyObject *taker_id, PyObject *taker_user, PyObject *taker_side,
      int64_t remaining, int64_t limit_key, PyObject *stp)
{
    int prevent = stp != STP_NONE;
    while (opposite->n) {
        Level *level = opposite->levels[opposite->n - 1];
        if (level->key < limit_key)
            break;
        int64_t before = level->quantity;
        for (;;) {
            COrder *maker = level->head;
            if (prevent) {
                int same = maker->user_id == taker_user
                               ? 1
                               : PyObject_RichCompareBool(maker->user_id, taker_user, Py_EQ);
                if (same < 0)
                    return -1;
                if (same) {
                    remaining = prevent_self_trade(b, level, maker, taker_id, taker_user, remaining, stp);
                    if (remaining < 0)
                        return -1;
                    if (!remaining || !level->quantity)
                        break;
                    continue;
                }
            }
            int filled = maker->remaining <= remaining;
            int64_t quantity = filled ? maker->remaining : remaining;
            maker->remaining -= quantity;
            remaining -= quantity;
            level->quantity -= quantity;
            b->seq++;
            int rc = emit_trade(b, maker->order_id, taker_id, maker->user_id, taker_user, taker_side,
                                level->price_obj, quantity);
            if (filled) {
                level_unlink(level, maker);
                if (forget_order(b, maker, CODE_FILLED) < 0)
                    rc = -1;
                free_order(maker);
            }
            if (rc < 0)
                return -1;
            if (!remaining) {
                if (PyDict_SetItem(b->finished, taker_id, CODE_FILLED) < 0)
                    return -1;
                break;
            }
            if (!level->quantity)
                break;
        }
        if (level->quantity != before && emit_level(b, ++b->seq, opposite->side, level->price_obj, level->quantity) < 0)
            return -1;
        if (!level->quantity) {
            opposite->n--;
            free_level(level);
        }
        if (!remaining)
            break;
    }
    return remaining;
}

/* Put a new order at the back of its level and into the indexes. Takes no references from the
 * caller: it increfs what it keeps. Returns the level, or NULL on error. */
static Level *
rest_order(Book *b, BookSide *own, PyObject *id, Py_hash_t id_hash, PyObject *user, PyObject *side, int64_t price,
           int64_t quantity, int64_t remaining, int64_t priority, PyObject *coid, Py_hash_t ch)
{
    Level *level = side_get_or_add(own, price);
    if (!level)
        return NULL;
    int64_t total;
    if (__builtin_add_overflow(level->quantity, remaining, &total)) {
        PyErr_SetString(PyExc_OverflowError, "the open quantity at this price does not fit 64 bits");
        if (!level->head)
            side_remove(own, level);
        return NULL;
    }
    COrder *o = PyMem_Malloc(sizeof(COrder));
    if (!o) {
        PyErr_NoMemory();
        if (!level->head)
            side_remove(own, level);
        return NULL;
    }
    o->order_id = Py_NewRef(id);
    o->user_id = Py_NewRef(user);
    o->side = Py_NewRef(side);
    o->client_order_id = coid == Py_None ? NULL : Py_NewRef(coid);
    o->id_hash = id_hash;
    o->client_hash = ch;
    o->price = price;
    o->quantity = quantity;
    o->remaining = remaining;
    o->priority = priority;
    if (table_insert(&b->by_id, o, id_hash) < 0) {
        free_order(o);
        if (!level->head)
            side_remove(own, level);
        return NULL;
    }
    if (o->client_order_id) {
        int err;
        Slot *s = client_lookup(&b->by_client, user, coid, ch, &err);
        if (s) /* restore() of a clashing client order id: the later order wins, as in a dict */
            s->order = o;
        else if (err || table_insert(&b->by_client, o, ch) < 0) {
            table_remove(&b->by_id, o, id_hash);
            free_order(o);
            if (!level->head)
                side_remove(own, level);
            return NULL;
        }
    }
    level_append(level, o);
    level->quantity = total;
    return level;
}

/* ------------------------------------------------------------------ commands */

static PyObject *PLACE_LIMIT_NAMES[8];
static PyObject *PLACE_MARKET_NAMES[7];

static PyObject *
Book_place_limit(Book *b, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[8];
    if (parse_args("place_limit", args, nargs, kwnames, PLACE_LIMIT_NAMES, 8, 5, a) < 0)
        return NULL;
    PyObject *id = a[0], *user = a[1], *price_obj = a[3], *quantity_obj = a[4];
    PyObject *side, *tif = TIF_GTC, *stp; /* checked before anything else, as in book.py */
    if (!(side = as_side(a[2])) || (a[5] && !(tif = as_time_in_force(a[5]))) || !(stp = as_stp(b, a[6])))
        return NULL;
    PyObject *coid = a[7] ? a[7] : Py_None;
    int64_t quantity, price;
    Py_hash_t id_hash = 0, ch = 0;
    int ok = positive_int_upto(quantity_obj, b->max_quantity, &quantity) && valid_price(b, price_obj, &price);
    if (ok) {
        ok = identity_ok(b, id, user, coid, &id_hash, &ch);
        if (ok < 0)
            return NULL;
    }
    if (!ok) {
        PyObject *problem = order_problem(b, id, user, quantity_obj, price_obj, coid, 1);
        if (emit_rejection(b, EV_REJECTED, id, user, problem) < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    int64_t priority = ++b->seq;
    if (emit_accepted(b, priority, id, user, side, TYPE_LIMIT, price_obj, quantity_obj) < 0)
        return NULL;
    int buy = side == SIDE_BUY;
    BookSide *own = buy ? &b->bids : &b->asks, *opposite = buy ? &b->asks : &b->bids;
    int64_t limit_key = buy ? -price : price; /* the opposite side's keys at or better than the price */
    int64_t remaining = quantity;
    if (opposite->n && opposite->levels[opposite->n - 1]->key >= limit_key) {
        remaining = match(b, opposite, id, user, side, quantity, limit_key, stp);
        if (remaining < 0)
            return NULL;
        if (!remaining)
            Py_RETURN_NONE;
    }
    if (tif == TIF_IOC) {
        if (cancel_taker(b, id, user, REASON_IOC, remaining) < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    Level *level = rest_order(b, own, id, id_hash, user, side, price, quantity, remaining, priority, coid, ch);
    if (!level || emit_level(b, ++b->seq, side, price_obj, level->quantity) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Book_place_market(Book *b, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[7];
    if (parse_args("place_market", args, nargs, kwnames, PLACE_MARKET_NAMES, 7, 4, a) < 0)
        return NULL;
    PyObject *id = a[0], *user = a[1], *quantity_obj = a[3];
    PyObject *side, *stp;
    if (!(side = as_side(a[2])) || !(stp = as_stp(b, a[5])))
        return NULL;
    PyObject *protection = a[4] ? a[4] : Py_None;
    PyObject *coid = a[6] ? a[6] : Py_None;
    int64_t quantity, price = 0;
    Py_hash_t id_hash = 0, ch = 0;
    int ok = positive_int_upto(quantity_obj, b->max_quantity, &quantity) &&
             (protection == Py_None || valid_price(b, protection, &price));
    if (ok) {
        ok = identity_ok(b, id, user, coid, &id_hash, &ch);
        if (ok < 0)
            return NULL;
    }
    if (!ok) {
        PyObject *problem = order_problem(b, id, user, quantity_obj, protection, coid, 0);
        if (emit_rejection(b, EV_REJECTED, id, user, problem) < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    if (emit_accepted(b, ++b->seq, id, user, side, TYPE_MARKET, protection, quantity_obj) < 0)
        return NULL;
    int buy = side == SIDE_BUY;
    BookSide *opposite = buy ? &b->asks : &b->bids;
    int64_t limit_key = protection == Py_None ? ANY_PRICE : (buy ? -price : price);
    int64_t remaining = quantity;
    if (opposite->n && opposite->levels[opposite->n - 1]->key >= limit_key) {
        remaining = match(b, opposite, id, user, side, quantity, limit_key, stp);
        if (remaining < 0)
            return NULL;
    }
    if (remaining && cancel_taker(b, id, user, REASON_NO_LIQUIDITY, remaining) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* book.py take_out on a resting order: cancel it now, emit the cancel and the level change. */
static int
take_out_order(Book *b, COrder *o, PyObject *reason)
{
    Level *level = o->level;
    BookSide *own = level->key > 0 ? &b->bids : &b->asks; /* bid keys are +price, ask keys -price */
    int64_t remaining = o->remaining;
    level->quantity -= remaining;
    level_unlink(level, o);
    int rc = forget_order(b, o, CODE_CANCELED);
    if (rc == 0)
        rc = emit_canceled(b, b->seq + 1, o->order_id, o->user_id, reason, remaining);
    if (rc == 0)
        rc = emit_level(b, b->seq + 2, o->side, level->price_obj, level->quantity);
    b->seq += 2;
    if (!level->quantity)
        side_remove(own, level);
    free_order(o);
    return rc;
}

static PyObject *CANCEL_NAMES[2];
static PyObject *CANCEL_CLIENT_NAMES[2];
static PyObject *TAKE_OUT_NAMES[2];

static PyObject *
Book_cancel(Book *b, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[2];
    if (parse_args("cancel", args, nargs, kwnames, CANCEL_NAMES, 2, 2, a) < 0)
        return NULL;
    PyObject *id = a[0], *user = a[1];
    Py_hash_t h = PyObject_Hash(id);
    if (h == -1)
        return NULL;
    int err;
    Slot *s = id_lookup(&b->by_id, id, h, &err);
    if (err)
        return NULL;
    PyObject *problem;
    if (!s) {
        PyObject *finished = PyDict_GetItemWithError(b->finished, id); /* borrowed */
        if (!finished && !PyErr_Occurred())
            finished = PyDict_GetItemWithError(b->finished_older, id);
        if (!finished && PyErr_Occurred())
            return NULL;
        problem = not_open(b, id, finished);
    }
    else {
        int other = PyObject_RichCompareBool(s->order->user_id, user, Py_NE);
        if (other < 0)
            return NULL;
        if (!other) {
            if (take_out_order(b, s->order, REASON_REQUESTED) < 0)
                return NULL;
            Py_RETURN_NONE;
        }
        problem = not_owner(id);
    }
    if (emit_rejection(b, EV_CANCEL_REJECTED, id, user, problem) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Book_cancel_by_client_order_id(Book *b, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[2];
    if (parse_args("cancel_by_client_order_id", args, nargs, kwnames, CANCEL_CLIENT_NAMES, 2, 2, a) < 0)
        return NULL;
    PyObject *user = a[0], *coid = a[1];
    Py_hash_t ch = client_hash(user, coid);
    if (ch == -1)
        return NULL;
    int err;
    Slot *s = client_lookup(&b->by_client, user, coid, ch, &err);
    if (err)
        return NULL;
    if (s) {
        if (take_out_order(b, s->order, REASON_REQUESTED) < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    PyObject *problem = PyObject_CallFunctionObjArgs(REJ_UNKNOWN_CLIENT, coid, b->symbol, NULL);
    if (emit_rejection(b, EV_CANCEL_REJECTED, Py_None, user, problem) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Book_take_out(Book *b, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[2];
    if (parse_args("take_out", args, nargs, kwnames, TAKE_OUT_NAMES, 2, 2, a) < 0)
        return NULL;
    PyObject *reason = PyObject_CallOneArg(ARG_REASON, a[1]); /* the member, or an error */
    if (!reason)
        return NULL;
    PyObject *id = PyObject_GetAttr(a[0], S_order_id);
    if (!id) {
        Py_DECREF(reason);
        return NULL;
    }
    Py_hash_t h = PyObject_Hash(id);
    int err = h == -1 ? -1 : 0;
    Slot *s = err ? NULL : id_lookup(&b->by_id, id, h, &err);
    if (!s) {
        if (!err)
            PyErr_SetObject(PyExc_KeyError, id); /* not open: the book is left unchanged */
        Py_DECREF(id);
        Py_DECREF(reason);
        return NULL;
    }
    Py_DECREF(id);
    int rc = take_out_order(b, s->order, reason);
    Py_DECREF(reason);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Book_take_events(Book *b, PyObject *Py_UNUSED(ignored))
{
    PyObject *fresh = PyList_New(0);
    if (!fresh)
        return NULL;
    PyObject *empty = NULL; /* allocated before anything changes, so an error changes nothing */
    if (PyDict_GET_SIZE(b->finished) >= b->finished_memory && !(empty = PyDict_New())) {
        Py_DECREF(fresh);
        return NULL;
    }
    PyObject *events = b->events;
    b->events = fresh;
    if (empty) { /* the current generation becomes the older one; the oldest is forgotten */
        PyObject *older = b->finished_older;
        b->finished_older = b->finished;
        b->finished = empty;
        Py_DECREF(older);
    }
    return events;
}

/* ------------------------------------------------------------------ restart */

static int64_t
int64_attr(PyObject *obj, PyObject *name, PyObject **keep)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    if (!v)
        return -1;
    if (!PyLong_Check(v)) {
        PyErr_Format(PyExc_TypeError, "order.%U must be an int, got %R", name, v);
        Py_DECREF(v);
        return -1;
    }
    int64_t x = PyLong_AsLongLong(v);
    if (keep)
        *keep = v;
    else
        Py_DECREF(v);
    return x;
}

static PyObject *
Book_restore(Book *b, PyObject *order)
{
    PyObject *id = NULL, *price_obj = NULL, *priority_obj = NULL, *side = NULL, *user = NULL, *coid = NULL;
    PyObject *result = NULL;
    int64_t remaining, quantity, priority, price;
    if (!(id = PyObject_GetAttr(order, S_order_id)) || !(price_obj = PyObject_GetAttr(order, S_price_cents)))
        goto done;
    Py_hash_t h = PyObject_Hash(id);
    if (h == -1)
        goto done;
    int err;
    if (id_lookup(&b->by_id, id, h, &err) || err) {
        if (!err)
            PyErr_Format(PyExc_ValueError, "order %R is already in the book", id);
        goto done;
    }
    if ((remaining = int64_attr(order, S_remaining, NULL)) == -1 && PyErr_Occurred())
        goto done;
    if ((quantity = int64_attr(order, S_quantity, NULL)) == -1 && PyErr_Occurred())
        goto done;
    if (!(0 < remaining && remaining <= quantity)) {
        PyErr_Format(PyExc_ValueError, "order %R has no open quantity to restore", id);
        goto done;
    }
    if (!PyLong_CheckExact(price_obj) || !positive_int_upto(price_obj, INT64_MAX, &price) || price % b->tick) {
        PyErr_Format(PyExc_ValueError, "order %R has a price off the tick size", id);
        goto done;
    }
    if (price > PRICE_MAX) {
        PyErr_Format(PyExc_ValueError, "order %R has a price above the maximum of %lld cents", id,
                     (long long)PRICE_MAX);
        goto done;
    }
    if ((priority = int64_attr(order, S_priority, &priority_obj)) == -1 && PyErr_Occurred())
        goto done;
    if (priority > b->seq) {
        PyErr_Format(PyExc_ValueError, "order %R has priority %S after seq %lld", id, priority_obj,
                     (long long)b->seq);
        goto done;
    }
    if (!(side = PyObject_GetAttr(order, S_side)))
        goto done;
    PyObject *member = as_side(side);
    if (!member)
        goto done;
    Py_SETREF(side, Py_NewRef(member));
    int buy = side == SIDE_BUY;
    BookSide *own = buy ? &b->bids : &b->asks, *opposite = buy ? &b->asks : &b->bids;
    if (opposite->n) {
        int64_t best = opposite->levels[opposite->n - 1]->key * opposite->sign;
        if ((best - price) * own->sign <= 0) {
            PyErr_Format(PyExc_ValueError, "order %R would cross the book at %lld", id, (long long)price);
            goto done;
        }
    }
    Level *level = side_find(own, price * own->sign);
    if (level && level->tail && level->tail->priority > priority) {
        PyErr_Format(PyExc_ValueError, "order %R is restored out of priority order", id);
        goto done;
    }
    if (!(user = PyObject_GetAttr(order, S_user_id)) || !(coid = PyObject_GetAttr(order, S_client_order_id)))
        goto done;
    Py_hash_t ch = 0;
    if (coid != Py_None && (ch = client_hash(user, coid)) == -1)
        goto done;
    if (!rest_order(b, own, id, h, user, side, price, quantity, remaining, priority, coid, ch))
        goto done;
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(id);
    Py_XDECREF(price_obj);
    Py_XDECREF(priority_obj);
    Py_XDECREF(side);
    Py_XDECREF(user);
    Py_XDECREF(coid);
    return result;
}

/* ------------------------------------------------------------------ queries */

/* A new orders.Order with the resting order's current values (a snapshot, not a live view). */
static PyObject *
order_snapshot(COrder *o)
{
    PyObject *ints[4] = {INT(o->price), INT(o->quantity), INT(o->remaining), INT(o->priority)};
    PyObject *result = NULL;
    if (ints[0] && ints[1] && ints[2] && ints[3]) {
        PyObject *argv[8] = {o->order_id, o->user_id, o->side, ints[0], ints[1], ints[2], ints[3],
                             o->client_order_id ? o->client_order_id : Py_None};
        result = PyObject_Vectorcall(ORDER_CLS, argv, 8, NULL);
    }
    for (int i = 0; i < 4; i++)
        Py_XDECREF(ints[i]);
    return result;
}

static PyObject *
side_best_price(const BookSide *s)
{
    if (!s->n)
        Py_RETURN_NONE;
    return INT(s->levels[s->n - 1]->price);
}

static PyObject *
Book_get_best_bid(Book *b, void *Py_UNUSED(closure))
{
    return side_best_price(&b->bids);
}

static PyObject *
Book_get_best_ask(Book *b, void *Py_UNUSED(closure))
{
    return side_best_price(&b->asks);
}

static PyObject *
side_depth(const BookSide *s, long long count)
{
    PyObject *list = PyList_New(0);
    if (!list)
        return NULL;
    for (Py_ssize_t i = s->n - 1; i >= 0 && count > 0; i--, count--) {
        PyObject *pair = Py_BuildValue("(LL)", (long long)s->levels[i]->price, (long long)s->levels[i]->quantity);
        if (!pair || PyList_Append(list, pair) < 0) {
            Py_XDECREF(pair);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(pair);
    }
    return list;
}

static PyObject *DEPTH_NAMES[1];

static PyObject *
Book_depth(Book *b, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[1];
    if (parse_args("depth", args, nargs, kwnames, DEPTH_NAMES, 1, 0, a) < 0)
        return NULL;
    long long count = 10;
    if (a[0]) {
        int overflow;
        count = PyLong_AsLongLongAndOverflow(a[0], &overflow);
        if (count == -1 && PyErr_Occurred())
            return NULL;
        if (overflow)
            count = overflow > 0 ? LLONG_MAX : 0;
    }
    PyObject *seq = INT(b->seq), *bids = side_depth(&b->bids, count), *asks = side_depth(&b->asks, count);
    PyObject *result = NULL;
    if (seq && bids && asks) {
        PyObject *argv[3] = {seq, bids, asks};
        result = PyObject_Vectorcall(DEPTH_CLS, argv, 3, NULL);
    }
    Py_XDECREF(seq);
    Py_XDECREF(bids);
    Py_XDECREF(asks);
    return result;
}

/* Append snapshots of a side's orders in priority order (best level first, FIFO) to `list`. */
static int
side_orders(const BookSide *s, PyObject *list)
{
    for (Py_ssize_t i = s->n - 1; i >= 0; i--) {
        for (COrder *o = s->levels[i]->head; o; o = o->next) {
            PyObject *snapshot = order_snapshot(o);
            if (!snapshot || PyList_Append(list, snapshot) < 0) {
                Py_XDECREF(snapshot);
                return -1;
            }
            Py_DECREF(snapshot);
        }
    }
    return 0;
}

static PyObject *ORDERS_NAMES[1];

static PyObject *
Book_orders(Book *b, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[1];
    if (parse_args("orders", args, nargs, kwnames, ORDERS_NAMES, 1, 0, a) < 0)
        return NULL;
    PyObject *side = a[0] ? a[0] : Py_None;
    PyObject *list = PyList_New(0);
    if (!list)
        return NULL;
    int rc;
    if (side == Py_None)
        rc = side_orders(&b->bids, list) < 0 ? -1 : side_orders(&b->asks, list);
    else if (!(side = as_side(side)))
        rc = -1;
    else
        rc = side_orders(side == SIDE_BUY ? &b->bids : &b->asks, list);
    PyObject *iterator = rc < 0 ? NULL : PyObject_GetIter(list);
    Py_DECREF(list);
    return iterator;
}

static PyObject *
Book_order(Book *b, PyObject *id)
{
    Py_hash_t h = PyObject_Hash(id);
    if (h == -1)
        return NULL;
    int err;
    Slot *s = id_lookup(&b->by_id, id, h, &err);
    if (err)
        return NULL;
    if (!s)
        Py_RETURN_NONE;
    return order_snapshot(s->order);
}

static Py_ssize_t
Book_len(Book *b)
{
    return (Py_ssize_t)b->by_id.used;
}

/* ------------------------------------------------------------------ introspection views */
/* For tests and tools: fresh Python objects shaped like book.py's state (levels.BookSide,
 * levels.PriceLevel, dicts of orders.Order), built on each access. Changing them changes nothing. */

static int
compare_priority(const void *x, const void *y)
{
    int64_t a = (*(COrder *const *)x)->priority, b = (*(COrder *const *)y)->priority;
    return (a > b) - (a < b);
}

/* The open orders (optionally only those with a client order id) in priority order, as in the
 * insertion order of book.py's dicts. Returns a PyMem array (caller frees) or NULL. */
static COrder **
sorted_orders(Book *b, int with_client_id, size_t *count)
{
    COrder **all = PyMem_Malloc((b->by_id.used + 1) * sizeof(COrder *));
    if (!all) {
        PyErr_NoMemory();
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < b->by_id.cap; i++) {
        COrder *o = b->by_id.slots[i].order;
        if (o && o != TOMB && (!with_client_id || o->client_order_id))
            all[n++] = o;
    }
    qsort(all, n, sizeof(COrder *), compare_priority);
    *count = n;
    return all;
}

static PyObject *
Book_get_open_orders(Book *b, void *Py_UNUSED(closure))
{
    size_t n;
    COrder **all = sorted_orders(b, 0, &n);
    if (!all)
        return NULL;
    PyObject *dict = PyDict_New();
    for (size_t i = 0; dict && i < n; i++) {
        PyObject *snapshot = order_snapshot(all[i]);
        if (!snapshot || PyDict_SetItem(dict, all[i]->order_id, snapshot) < 0)
            Py_CLEAR(dict);
        Py_XDECREF(snapshot);
    }
    PyMem_Free(all);
    return dict;
}

static PyObject *
Book_get_by_client_order_id(Book *b, void *Py_UNUSED(closure))
{
    size_t n;
    COrder **all = sorted_orders(b, 1, &n);
    if (!all)
        return NULL;
    PyObject *dict = PyDict_New();
    for (size_t i = 0; dict && i < n; i++) {
        PyObject *key = PyTuple_Pack(2, all[i]->user_id, all[i]->client_order_id);
        PyObject *snapshot = key ? order_snapshot(all[i]) : NULL;
        if (!snapshot || PyDict_SetItem(dict, key, snapshot) < 0)
            Py_CLEAR(dict);
        Py_XDECREF(key);
        Py_XDECREF(snapshot);
    }
    PyMem_Free(all);
    return dict;
}

/* A levels.BookSide filled with levels.PriceLevel copies holding order snapshots. */
static PyObject *
side_view(const BookSide *s)
{
    PyObject *view = PyObject_CallOneArg(BOOKSIDE_CLS, s->side);
    PyObject *keys = view ? PyObject_GetAttr(view, S_keys) : NULL;
    PyObject *levels = keys ? PyObject_GetAttr(view, S_levels) : NULL;
    int rc = levels ? 0 : -1;
    for (Py_ssize_t i = 0; rc == 0 && i < s->n; i++) {
        Level *level = s->levels[i];
        PyObject *price = INT(level->price), *key = INT(level->key), *quantity = INT(level->quantity);
        PyObject *copy = NULL, *orders = NULL;
        rc = -1;
        if (price && key && quantity) {
            PyObject *argv[2] = {price, key};
            copy = PyObject_Vectorcall(PRICELEVEL_CLS, argv, 2, NULL);
        }
        if (copy && PyObject_SetAttr(copy, S_quantity, quantity) == 0 && (orders = PyObject_GetAttr(copy, S_orders))) {
            rc = 0;
            for (COrder *o = level->head; rc == 0 && o; o = o->next) {
                PyObject *snapshot = order_snapshot(o);
                PyObject *r = snapshot ? PyObject_CallMethodOneArg(orders, S_append, snapshot) : NULL;
                rc = r ? 0 : -1;
                Py_XDECREF(r);
                Py_XDECREF(snapshot);
            }
            if (rc == 0)
                rc = PyList_Append(keys, key) < 0 || PyDict_SetItem(levels, key, copy) < 0 ? -1 : 0;
        }
        Py_XDECREF(price);
        Py_XDECREF(key);
        Py_XDECREF(quantity);
        Py_XDECREF(copy);
        Py_XDECREF(orders);
    }
    Py_XDECREF(keys);
    Py_XDECREF(levels);
    if (rc < 0)
        Py_CLEAR(view);
    return view;
}

static PyObject *
Book_get_bids(Book *b, void *Py_UNUSED(closure))
{
    return side_view(&b->bids);
}

static PyObject *
Book_get_asks(Book *b, void *Py_UNUSED(closure))
{
    return side_view(&b->asks);
}

/* ------------------------------------------------------------------ attributes */

static PyObject *
Book_get_seq(Book *b, void *Py_UNUSED(closure))
{
    return INT(b->seq);
}

static int
Book_set_seq(Book *b, PyObject *value, void *Py_UNUSED(closure))
{
    if (!value || !PyLong_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "seq must be an int");
        return -1;
    }
    int64_t seq = PyLong_AsLongLong(value);
    if (seq == -1 && PyErr_Occurred())
        return -1;
    b->seq = seq;
    return 0;
}

static PyObject *
Book_get_halted(Book *b, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(b->halted);
}

static int
Book_set_halted(Book *b, PyObject *value, void *Py_UNUSED(closure))
{
    if (!value) {
        PyErr_SetString(PyExc_AttributeError, "halted cannot be deleted");
        return -1;
    }
    int truth = PyObject_IsTrue(value);
    if (truth < 0)
        return -1;
    b->halted = truth;
    return 0;
}

static PyObject *
Book_get_events(Book *b, void *Py_UNUSED(closure))
{
    return Py_NewRef(b->events);
}

static int
Book_set_events(Book *b, PyObject *value, void *Py_UNUSED(closure))
{
    if (!value || !PyList_CheckExact(value)) {
        PyErr_SetString(PyExc_TypeError, "events must be a list");
        return -1;
    }
    Py_SETREF(b->events, Py_NewRef(value));
    return 0;
}

static PyObject *
Book_get_default_stp(Book *b, void *Py_UNUSED(closure))
{
    return Py_NewRef(b->default_stp);
}

static PyObject *
Book_get_finished(Book *b, void *closure)
{
    return Py_NewRef(closure ? b->finished_older : b->finished);
}

/* ------------------------------------------------------------------ life cycle */

static void
side_clear(BookSide *s)
{
    for (Py_ssize_t i = 0; i < s->n; i++)
        free_level(s->levels[i]);
    PyMem_Free(s->levels);
    s->levels = NULL;
    s->n = s->cap = 0;
}

/* Free every resting order and level (all resting orders are in by_id). */
static void
book_free_state(Book *b)
{
    for (size_t i = 0; i < b->by_id.cap; i++) {
        COrder *o = b->by_id.slots[i].order;
        if (o && o != TOMB)
            free_order(o);
    }
    PyMem_Free(b->by_id.slots);
    PyMem_Free(b->by_client.slots);
    memset(&b->by_id, 0, sizeof(Table));
    memset(&b->by_client, 0, sizeof(Table));
    side_clear(&b->bids);
    side_clear(&b->asks);
}

static int
Book_traverse(Book *b, visitproc visit, void *arg)
{
    Py_VISIT(b->events);
    Py_VISIT(b->finished);
    Py_VISIT(b->finished_older);
    return 0;
}

static int
Book_clear(Book *b)
{
    Py_CLEAR(b->events);
    Py_CLEAR(b->finished);
    Py_CLEAR(b->finished_older);
    return 0;
}

static void
Book_dealloc(Book *b)
{
    PyObject_GC_UnTrack(b);
    Book_clear(b);
    book_free_state(b);
    Py_CLEAR(b->symbol);
    Py_CLEAR(b->tick_obj);
    Py_CLEAR(b->max_obj);
    Py_TYPE(b)->tp_free((PyObject *)b); /* a static type: a subclass's dealloc releases its heap type */
}

static PyObject *
Book_new(PyTypeObject *type, PyObject *Py_UNUSED(args), PyObject *Py_UNUSED(kwargs))
{
    Book *b = (Book *)type->tp_alloc(type, 0); /* zeroed */
    if (!b)
        return NULL;
    b->bids.sign = 1;
    b->bids.side = SIDE_BUY;
    b->asks.sign = -1;
    b->asks.side = SIDE_SELL;
    b->default_stp = STP_CANCEL_NEWEST;
    b->events = PyList_New(0);
    b->finished = PyDict_New();
    b->finished_older = PyDict_New();
    b->symbol = Py_NewRef(Py_None); /* placeholders until __init__ (a subclass might skip it) */
    b->tick_obj = PyLong_FromLong(1);
    b->max_obj = PyLong_FromLong(1);
    b->tick = 1;
    b->max_quantity = 1;
    b->finished_memory = 1;
    if (!b->events || !b->finished || !b->finished_older || !b->tick_obj || !b->max_obj) {
        Py_DECREF(b);
        return NULL;
    }
    return (PyObject *)b;
}

static int
Book_init(Book *b, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"symbol",          "tick_size_cents", "max_quantity", "last_seq",
                            "finished_memory", "default_stp",     NULL};
    PyObject *symbol, *default_stp = STP_CANCEL_NEWEST;
    long long tick = 1, max_quantity = 1000000, last_seq = 0, finished_memory = 10000;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$LLLLO:OrderBook", names, &symbol, &tick, &max_quantity,
                                     &last_seq, &finished_memory, &default_stp))
        return -1;
    if (tick <= 0 || max_quantity <= 0) {
        PyErr_SetString(PyExc_ValueError, "tick size and maximum quantity must be positive");
        return -1;
    }
    PyObject *stps[] = {STP_NONE, STP_CANCEL_NEWEST, STP_CANCEL_OLDEST, STP_CANCEL_BOTH, STP_DECREMENT};
    if (!(default_stp = to_member(ARG_STP, default_stp, S_default_stp, stps, 5)))
        return -1;
    PyObject *tick_obj = INT(tick), *max_obj = INT(max_quantity), *events = PyList_New(0);
    PyObject *finished = PyDict_New(), *older = PyDict_New();
    if (!tick_obj || !max_obj || !events || !finished || !older) {
        Py_XDECREF(tick_obj);
        Py_XDECREF(max_obj);
        Py_XDECREF(events);
        Py_XDECREF(finished);
        Py_XDECREF(older);
        return -1;
    }
    book_free_state(b); /* __init__ called again: start over */
    Py_XSETREF(b->symbol, Py_NewRef(symbol));
    Py_XSETREF(b->tick_obj, tick_obj);
    Py_XSETREF(b->max_obj, max_obj);
    Py_XSETREF(b->events, events);
    Py_XSETREF(b->finished, finished);
    Py_XSETREF(b->finished_older, older);
    b->tick = tick;
    b->max_quantity = max_quantity;
    b->seq = last_seq;
    b->finished_memory = finished_memory;
    b->halted = 0;
    b->default_stp = default_stp;
    return 0;
}

/* ------------------------------------------------------------------ type and module */

#define FASTCALL_KW (METH_FASTCALL | METH_KEYWORDS)

static PyMethodDef Book_methods[] = {
    {"place_limit", (PyCFunction)(void (*)(void))Book_place_limit, FASTCALL_KW,
     "Match a limit order at price_cents or better; rest the remainder (GTC) or cancel it (IOC).\n\n"
     "stp None means the book's default_stp."},
    {"place_market", (PyCFunction)(void (*)(void))Book_place_market, FASTCALL_KW,
     "Sweep the book, never beyond protection_price_cents if given; cancel what is left.\n\n"
     "stp None means the book's default_stp."},
    {"cancel", (PyCFunction)(void (*)(void))Book_cancel, FASTCALL_KW, "Cancel an open order on behalf of its owner."},
    {"cancel_by_client_order_id", (PyCFunction)(void (*)(void))Book_cancel_by_client_order_id, FASTCALL_KW,
     "Cancel the user's open order that carries client_order_id."},
    {"take_out", (PyCFunction)(void (*)(void))Book_take_out, FASTCALL_KW,
     "Cancel the open order with order.order_id now, whoever asks; KeyError if it is not open."},
    {"take_events", (PyCFunction)Book_take_events, METH_NOARGS,
     "Return the events emitted since the last call, oldest first, and start a new list."},
    {"restore", (PyCFunction)Book_restore, METH_O, "Put a persisted resting order back without matching or events."},
    {"depth", (PyCFunction)(void (*)(void))Book_depth, FASTCALL_KW,
     "The best `levels` price levels per side, aggregated, with the seq they are valid at."},
    {"orders", (PyCFunction)(void (*)(void))Book_orders, FASTCALL_KW,
     "Snapshots of the open orders in priority order: bids best price first, then asks, FIFO."},
    {"order", (PyCFunction)Book_order, METH_O, "A snapshot of the open order with this id, or None."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Book_getset[] = {
    {"seq", (getter)Book_get_seq, (setter)Book_set_seq, "The seq of the last event.", NULL},
    {"halted", (getter)Book_get_halted, (setter)Book_set_halted, "While True, new orders are rejected.", NULL},
    {"default_stp", (getter)Book_get_default_stp, NULL,
     "The self-trade prevention of orders placed without one; fixed when the book is made.", NULL},
    {"events", (getter)Book_get_events, (setter)Book_set_events, "The events not taken yet.", NULL},
    {"finished", (getter)Book_get_finished, NULL, "Recently finished order ids -> RejectCode.", NULL},
    {"_finished_older", (getter)Book_get_finished, NULL, "The previous generation of `finished`.", (void *)1},
    {"best_bid", (getter)Book_get_best_bid, NULL, "The highest bid price in cents, or None.", NULL},
    {"best_ask", (getter)Book_get_best_ask, NULL, "The lowest ask price in cents, or None.", NULL},
    {"bids", (getter)Book_get_bids, NULL, "A copy of the bid side as a levels.BookSide.", NULL},
    {"asks", (getter)Book_get_asks, NULL, "A copy of the ask side as a levels.BookSide.", NULL},
    {"open_orders", (getter)Book_get_open_orders, NULL, "A copy: order id -> Order snapshot.", NULL},
    {"by_client_order_id", (getter)Book_get_by_client_order_id, NULL,
     "A copy: (user id, client order id) -> Order snapshot.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Book_members[] = {
    {"symbol", T_OBJECT_EX, offsetof(Book, symbol), READONLY, NULL},
    {"tick_size_cents", T_OBJECT_EX, offsetof(Book, tick_obj), READONLY, NULL},
    {"max_quantity", T_OBJECT_EX, offsetof(Book, max_obj), READONLY, NULL},
    {"_finished_memory", T_LONGLONG, offsetof(Book, finished_memory), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PySequenceMethods Book_as_sequence = {.sq_length = (lenfunc)Book_len};

static PyTypeObject BookType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kyrios.exchange.engine._cbook.OrderBook",
    .tp_doc = "The book of one symbol, in C: the same API and events as book.OrderBook.",
    .tp_basicsize = sizeof(Book),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = Book_new,
    .tp_init = (initproc)Book_init,
    .tp_dealloc = (destructor)Book_dealloc,
    .tp_traverse = (traverseproc)Book_traverse,
    .tp_clear = (inquiry)Book_clear,
    .tp_methods = Book_methods,
    .tp_getset = Book_getset,
    .tp_members = Book_members,
    .tp_as_sequence = &Book_as_sequence,
};

static PyObject *
import_attr(const char *module, const char *dotted)
{
    PyObject *obj = PyImport_ImportModule(module);
    char name[64];
    const char *start = dotted;
    while (obj && *start) {
        const char *dot = strchr(start, '.');
        size_t len = dot ? (size_t)(dot - start) : strlen(start);
        memcpy(name, start, len);
        name[len] = 0;
        Py_SETREF(obj, PyObject_GetAttrString(obj, name));
        start = dot ? dot + 1 : start + len;
    }
    return obj;
}

/* Compare the C sentences with rejections.py's on sample ids; set C_SENTENCES. -1 on error. */
static int
check_sentences(void)
{
    Book probe = {.symbol = NULL};
    PyObject *ids[] = {PyLong_FromLong(-42), PyUnicode_FromString("id 'q\"x")};
    probe.symbol = PyUnicode_FromString("SYM-1");
    int same = 1, rc = 0;
    for (int i = 0; rc == 0 && i < 2; i++) {
        PyObject *finished[] = {CODE_FILLED, CODE_CANCELED, NULL};
        for (int j = 0; rc == 0 && j < 4; j++) {
            if (!ids[i] || !probe.symbol) {
                rc = -1;
                break;
            }
            C_SENTENCES = 0;
            PyObject *python = j < 3 ? not_open(&probe, ids[i], finished[j]) : not_owner(ids[i]);
            C_SENTENCES = 1;
            PyObject *c = j < 3 ? not_open(&probe, ids[i], finished[j]) : not_owner(ids[i]);
            int eq = python && c ? PyObject_RichCompareBool(python, c, Py_EQ) : -1;
            if (eq < 0)
                rc = -1;
            else
                same &= eq;
            Py_XDECREF(python);
            Py_XDECREF(c);
        }
    }
    Py_XDECREF(ids[0]);
    Py_XDECREF(ids[1]);
    Py_XDECREF(probe.symbol);
    C_SENTENCES = same;
    return rc;
}

static PyObject *
Book_c_sentences(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(C_SENTENCES);
}

static PyMethodDef module_methods[] = {
    {"c_sentences", Book_c_sentences, METH_NOARGS,
     "True if the cancel-rejection sentences are formatted in C (they matched rejections.py at import)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef cbook_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "kyrios.exchange.engine._cbook",
    .m_doc = "The order book of kyrios.exchange.engine.book in C (same API, events and sentences).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__cbook(void)
{
    static const char ENUMS[] = "kyrios.exchange.engine.enums", EVENTS[] = "kyrios.exchange.engine.events";
    static const char REJ[] = "kyrios.exchange.engine.rejections", ARGS[] = "kyrios.exchange.engine.arguments";
    struct {
        PyObject **slot;
        const char *module, *name;
    } imports[] = {
        {&SIDE_BUY, ENUMS, "Side.BUY"},
        {&SIDE_SELL, ENUMS, "Side.SELL"},
        {&TYPE_LIMIT, ENUMS, "OrderType.LIMIT"},
        {&TYPE_MARKET, ENUMS, "OrderType.MARKET"},
        {&TIF_GTC, ENUMS, "TimeInForce.GTC"},
        {&TIF_IOC, ENUMS, "TimeInForce.IOC"},
        {&STP_NONE, ENUMS, "SelfTradePrevention.NONE"},
        {&STP_CANCEL_NEWEST, ENUMS, "SelfTradePrevention.CANCEL_NEWEST"},
        {&STP_CANCEL_OLDEST, ENUMS, "SelfTradePrevention.CANCEL_OLDEST"},
        {&STP_CANCEL_BOTH, ENUMS, "SelfTradePrevention.CANCEL_BOTH"},
        {&STP_DECREMENT, ENUMS, "SelfTradePrevention.DECREMENT"},
        {&REASON_REQUESTED, ENUMS, "CancelReason.REQUESTED"},
        {&REASON_SELF_TRADE, ENUMS, "CancelReason.SELF_TRADE"},
        {&REASON_NO_LIQUIDITY, ENUMS, "CancelReason.NO_LIQUIDITY"},
        {&REASON_IOC, ENUMS, "CancelReason.IMMEDIATE_OR_CANCEL"},
        {&CODE_FILLED, ENUMS, "RejectCode.ORDER_ALREADY_FILLED"},
        {&CODE_CANCELED, ENUMS, "RejectCode.ORDER_ALREADY_CANCELED"},
        {&CODE_INVALID_PRICE, ENUMS, "RejectCode.INVALID_PRICE"},
        {&CODE_UNKNOWN_ORDER, ENUMS, "RejectCode.UNKNOWN_ORDER"},
        {&CODE_NOT_OWNER, ENUMS, "RejectCode.NOT_ORDER_OWNER"},
        {(PyObject **)&EV_ACCEPTED, EVENTS, "OrderAccepted"},
        {(PyObject **)&EV_REJECTED, EVENTS, "OrderRejected"},
        {(PyObject **)&EV_TRADE, EVENTS, "Trade"},
        {(PyObject **)&EV_CANCELED, EVENTS, "OrderCanceled"},
        {(PyObject **)&EV_REDUCED, EVENTS, "OrderReduced"},
        {(PyObject **)&EV_CANCEL_REJECTED, EVENTS, "CancelRejected"},
        {(PyObject **)&EV_LEVEL, EVENTS, "BookLevelChanged"},
        {&ORDER_CLS, "kyrios.exchange.engine.orders", "Order"},
        {&BOOKSIDE_CLS, "kyrios.exchange.engine.levels", "BookSide"},
        {&PRICELEVEL_CLS, "kyrios.exchange.engine.levels", "PriceLevel"},
        {&DEPTH_CLS, "kyrios.exchange.engine.levels", "Depth"},
        {&REJ_ORDER_PROBLEM, REJ, "order_problem"},
        {&REJ_DUP_ID, REJ, "duplicate_order_id"},
        {&REJ_DUP_CLIENT, REJ, "duplicate_client_order_id"},
        {&REJ_HALTED, REJ, "halted"},
        {&REJ_NOT_OPEN, REJ, "not_open"},
        {&REJ_NOT_OWNER, REJ, "not_owner"},
        {&REJ_UNKNOWN_CLIENT, REJ, "unknown_client_order_id"},
        {&ARG_SIDE, ARGS, "side"},
        {&ARG_TIF, ARGS, "time_in_force"},
        {&ARG_STP, ARGS, "self_trade_prevention"},
        {&ARG_REASON, ARGS, "cancel_reason"},
    };
    for (size_t i = 0; i < sizeof(imports) / sizeof(imports[0]); i++) {
        if (*imports[i].slot)
            continue; /* a re-import after the module was dropped from sys.modules */
        if (!(*imports[i].slot = import_attr(imports[i].module, imports[i].name)))
            return NULL;
    }
    PyTypeObject *events[] = {EV_ACCEPTED, EV_REJECTED, EV_TRADE, EV_CANCELED, EV_REDUCED, EV_CANCEL_REJECTED, EV_LEVEL};
    for (size_t i = 0; i < 7; i++) {
        if (!PyType_Check(events[i]) || !PyType_IsSubtype(events[i], &PyTuple_Type) ||
            events[i]->tp_itemsize != PyTuple_Type.tp_itemsize || events[i]->tp_dictoffset) {
            PyErr_SetString(PyExc_ImportError, "_cbook: events must be plain tuple subclasses");
            return NULL;
        }
    }
    struct {
        PyObject **slot;
        const char *text;
    } names[] = {
        {&S_order_id, "order_id"}, {&S_user_id, "user_id"}, {&S_side, "side"}, {&S_price_cents, "price_cents"},
        {&S_quantity, "quantity"}, {&S_remaining, "remaining"}, {&S_priority, "priority"},
        {&S_client_order_id, "client_order_id"}, {&S_time_in_force, "time_in_force"}, {&S_stp, "stp"},
        {&S_protection_price_cents, "protection_price_cents"}, {&S_reason, "reason"}, {&S_order, "order"},
        {&S_levels, "levels"}, {&S_price_required, "price_required"}, {&S_tick_size_cents, "tick_size_cents"},
        {&S_max_quantity, "max_quantity"}, {&S_keys, "keys"}, {&S_orders, "orders"}, {&S_append, "append"},
        {&S_default_stp, "default_stp"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!*names[i].slot && !(*names[i].slot = PyUnicode_InternFromString(names[i].text)))
            return NULL;
    }
    PyObject *limit_names[] = {S_order_id, S_user_id, S_side, S_price_cents, S_quantity, S_time_in_force, S_stp,
                               S_client_order_id};
    memcpy(PLACE_LIMIT_NAMES, limit_names, sizeof(limit_names));
    PyObject *market_names[] = {S_order_id, S_user_id, S_side, S_quantity, S_protection_price_cents, S_stp,
                                S_client_order_id};
    memcpy(PLACE_MARKET_NAMES, market_names, sizeof(market_names));
    CANCEL_NAMES[0] = S_order_id;
    CANCEL_NAMES[1] = S_user_id;
    CANCEL_CLIENT_NAMES[0] = S_user_id;
    CANCEL_CLIENT_NAMES[1] = S_client_order_id;
    TAKE_OUT_NAMES[0] = S_order;
    TAKE_OUT_NAMES[1] = S_reason;
    DEPTH_NAMES[0] = S_levels;
    ORDERS_NAMES[0] = S_side;

    if (check_sentences() < 0)
        return NULL;
    if (PyType_Ready(&BookType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&cbook_module);
    if (!module)
        return NULL;
    if (PyModule_AddObjectRef(module, "OrderBook", (PyObject *)&BookType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}

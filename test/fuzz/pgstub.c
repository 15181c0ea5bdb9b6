/*-------------------------------------------------------------------------
 *
 * pgstub.c
 *	  Stand-ins for the backend functions cf's input checks call, for the
 *	  libFuzzer harnesses (see pgstub.h).  Not part of the extension.
 *
 *-------------------------------------------------------------------------
 */
#include "pgstub.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "executor/spi.h"
#include "lib/binaryheap.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "nodes/pg_list.h"
#include "storage/itemptr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

int			stub_errcode;
char		stub_errmsg[1024];
sigjmp_buf *stub_jump;

/* Backend globals cf reads. */
volatile sig_atomic_t InterruptPending = false;
int			maintenance_work_mem = 65536;

/* ------------------------------------------------------------- memory */

typedef struct StubChunk StubChunk;
typedef struct StubContext StubContext;

/*
 * Header before every chunk: its neighbours in its context, and the context
 * last, right before the chunk, where GetMemoryChunkContext() looks.
 */
struct StubChunk
{
	StubChunk  *prev;
	StubChunk  *next;
	Size		size;
	StubContext *cxt;
};

/* A memory context: its chunks and its children. */
struct StubContext
{
	const char *name;
	StubContext *parent;
	StubContext *firstchild;
	StubContext *nextchild;
	StubChunk  *chunks;
};

static StubContext top = {"TopMemoryContext"};
MemoryContext TopMemoryContext = (MemoryContext) &top;
MemoryContext CurrentMemoryContext = (MemoryContext) &top;

/* Allocate size bytes in context cxt. */
static void *
chunk_alloc(StubContext *cxt, Size size, int flags)
{
	StubChunk  *c;

	if (!(flags & MCXT_ALLOC_HUGE) && !AllocSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	if (!AllocHugeSizeIsValid(size))
		elog(ERROR, "invalid memory alloc request size %zu", size);
	c = malloc(sizeof(StubChunk) + size);
	if (c == NULL)
	{
		if (flags & MCXT_ALLOC_NO_OOM)
			return NULL;
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	c->cxt = cxt;
	c->size = size;
	c->prev = NULL;
	c->next = cxt->chunks;
	if (cxt->chunks)
		cxt->chunks->prev = c;
	cxt->chunks = c;
	if (flags & MCXT_ALLOC_ZERO)
		memset(c + 1, 0, size);
	return c + 1;
}

/* Unlink and free one chunk. */
static void
chunk_free(StubChunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->cxt->chunks = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

MemoryContext
AllocSetContextCreateInternal(MemoryContext parent, const char *name,
							  Size minContextSize, Size initBlockSize, Size maxBlockSize)
{
	StubContext *p = (StubContext *) parent;
	StubContext *cxt = calloc(1, sizeof(StubContext));

	cxt->name = name;
	cxt->parent = p;
	cxt->nextchild = p->firstchild;
	p->firstchild = cxt;
	return (MemoryContext) cxt;
}

/* Free a context's chunks and delete its children. */
static void
context_reset(StubContext *cxt)
{
	while (cxt->firstchild)
		MemoryContextDelete((MemoryContext) cxt->firstchild);
	while (cxt->chunks)
		chunk_free(cxt->chunks);
}

void
MemoryContextReset(MemoryContext context)
{
	context_reset((StubContext *) context);
}

void
MemoryContextDelete(MemoryContext context)
{
	StubContext *cxt = (StubContext *) context;
	StubContext **link;

	context_reset(cxt);
	for (link = &cxt->parent->firstchild; *link != cxt; link = &(*link)->nextchild)
		;
	*link = cxt->nextchild;
	if (CurrentMemoryContext == context)
		CurrentMemoryContext = (MemoryContext) cxt->parent;
	free(cxt);
}

void
stub_reset_memory(void)
{
	context_reset(&top);
	CurrentMemoryContext = TopMemoryContext;
	stub_spi_abort();
}

/* Move a context (and its subtree) under another parent. */
void
MemoryContextSetParent(MemoryContext context, MemoryContext new_parent)
{
	StubContext *cxt = (StubContext *) context;
	StubContext *p = (StubContext *) new_parent;
	StubContext **link;

	if (cxt->parent == p)
		return;
	for (link = &cxt->parent->firstchild; *link != cxt; link = &(*link)->nextchild)
		;
	*link = cxt->nextchild;
	cxt->parent = p;
	cxt->nextchild = p->firstchild;
	p->firstchild = cxt;
}

/* Bytes held by a context's chunks, headers included (and its children's). */
Size
MemoryContextMemAllocated(MemoryContext context, bool recurse)
{
	StubContext *cxt = (StubContext *) context;
	Size		total = 0;

	for (StubChunk *c = cxt->chunks; c; c = c->next)
		total += sizeof(StubChunk) + c->size;
	if (recurse)
		for (StubContext *child = cxt->firstchild; child; child = child->nextchild)
			total += MemoryContextMemAllocated((MemoryContext) child, true);
	return total;
}

/* Identifiers only label contexts in memory dumps. */
void
MemoryContextSetIdentifier(MemoryContext context, const char *id)
{
}

void *
MemoryContextAlloc(MemoryContext context, Size size)
{
	return chunk_alloc((StubContext *) context, size, 0);
}

void *
MemoryContextAllocZero(MemoryContext context, Size size)
{
	return chunk_alloc((StubContext *) context, size, MCXT_ALLOC_ZERO);
}

void *
MemoryContextAllocExtended(MemoryContext context, Size size, int flags)
{
	return chunk_alloc((StubContext *) context, size, flags);
}

void *
MemoryContextAllocHuge(MemoryContext context, Size size)
{
	return chunk_alloc((StubContext *) context, size, MCXT_ALLOC_HUGE);
}

void *
palloc(Size size)
{
	return chunk_alloc((StubContext *) CurrentMemoryContext, size, 0);
}

void *
palloc0(Size size)
{
	return chunk_alloc((StubContext *) CurrentMemoryContext, size, MCXT_ALLOC_ZERO);
}

void *
palloc_extended(Size size, int flags)
{
	return chunk_alloc((StubContext *) CurrentMemoryContext, size, flags);
}

void
pfree(void *pointer)
{
	chunk_free((StubChunk *) pointer - 1);
}

/* repalloc and repalloc_huge: a new chunk in the same context. */
static void *
chunk_realloc(void *pointer, Size size, int flags)
{
	StubChunk  *old = (StubChunk *) pointer - 1;
	void	   *p = chunk_alloc(old->cxt, size, flags);

	memcpy(p, pointer, Min(size, old->size));
	chunk_free(old);
	return p;
}

void *
repalloc(void *pointer, Size size)
{
	return chunk_realloc(pointer, size, 0);
}

void *
repalloc_huge(void *pointer, Size size)
{
	return chunk_realloc(pointer, size, MCXT_ALLOC_HUGE);
}

char *
pstrdup(const char *in)
{
	Size		len = strlen(in) + 1;

	return memcpy(palloc(len), in, len);
}

char *
psprintf(const char *fmt,...)
{
	va_list		args;
	char		buf[4096];

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	return pstrdup(buf);
}

/* float8out's text of a double (here %.17g: the harnesses read only its presence). */
char *
float8out_internal(double num)
{
	return psprintf("%.17g", num);
}

/* text_to_cstring for the plain 4-byte-header or short-header text. */
char *
text_to_cstring(const text *t)
{
	const struct varlena *v = (const struct varlena *) t;
	Size		len = VARSIZE_ANY_EXHDR(v);
	char	   *result = palloc(len + 1);

	memcpy(result, VARDATA_ANY(v), len);
	result[len] = '\0';
	return result;
}

/* A text datum of len bytes from s, as varlena.c. */
text *
cstring_to_text_with_len(const char *s, int len)
{
	text	   *result = palloc(len + VARHDRSZ);

	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), s, len);
	return result;
}

/* A text datum of a C string. */
text *
cstring_to_text(const char *s)
{
	return cstring_to_text_with_len(s, strlen(s));
}

/* Every schema is "cf_fuzz" (a palloc'd copy, as lsyscache.c returns). */
char *
get_namespace_name(Oid nspid)
{
	return pstrdup("cf_fuzz");
}

/* qualifier.ident; the harnesses' names need no quotes. */
char *
quote_qualified_identifier(const char *qualifier, const char *ident)
{
	return psprintf("%s.%s", qualifier, ident);
}

/* Whether two item pointers are equal, as storage/page/itemptr.c. */
bool
ItemPointerEquals(ItemPointer pointer1, ItemPointer pointer2)
{
	return ItemPointerGetBlockNumber(pointer1) == ItemPointerGetBlockNumber(pointer2) &&
		ItemPointerGetOffsetNumber(pointer1) == ItemPointerGetOffsetNumber(pointer2);
}

/* An empty parameter list of numParams entries, as params.c. */
ParamListInfo
makeParamList(int numParams)
{
	ParamListInfo p = palloc0(offsetof(ParamListInfoData, params) +
							  numParams * sizeof(ParamExternData));

	p->numParams = numParams;
	return p;
}

/* -------------------------------------------------------- stringinfo */

/* As common/stringinfo.c: a 1 kB buffer, doubled as needed. */
void
initStringInfo(StringInfo str)
{
	str->maxlen = 1024;
	str->data = palloc(str->maxlen);
	resetStringInfo(str);
}

/* Empty the buffer (keeping it). */
void
resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

/* Room for needed more bytes and a NUL (up to MaxAllocSize). */
void
enlargeStringInfo(StringInfo str, int needed)
{
	int			newlen = str->maxlen;

	if (needed < 0 || (Size) needed >= MaxAllocSize - (Size) str->len)
		elog(ERROR, "invalid string enlargement request size: %d", needed);
	needed += str->len + 1;
	while (needed > newlen)
		newlen = Min(2 * (Size) newlen, MaxAllocSize);
	if (newlen > str->maxlen)
		str->data = repalloc(str->data, newlen);
	str->maxlen = newlen;
}

/* Append formatted text, enlarging and formatting again if it did not fit. */
void
appendStringInfo(StringInfo str, const char *fmt,...)
{
	for (;;)
	{
		va_list		args;
		int			avail = str->maxlen - str->len;
		int			n;

		va_start(args, fmt);
		n = vsnprintf(str->data + str->len, avail, fmt, args);
		va_end(args);
		if (n < 0)
			elog(ERROR, "vsnprintf failed");
		if (n < avail)
		{
			str->len += n;
			return;
		}
		str->data[str->len] = '\0';
		enlargeStringInfo(str, n);
	}
}

/* Append a C string. */
void
appendStringInfoString(StringInfo str, const char *s)
{
	int			len = strlen(s);

	enlargeStringInfo(str, len);
	memcpy(str->data + str->len, s, len + 1);
	str->len += len;
}

/* Append one byte. */
void
appendStringInfoChar(StringInfo str, char ch)
{
	enlargeStringInfo(str, 1);
	str->data[str->len++] = ch;
	str->data[str->len] = '\0';
}

/* ----------------------------------------------------------------- SPI */

uint64		SPI_processed = 0;
SPITupleTable *SPI_tuptable = NULL;
int			SPI_result = 0;

#define STUB_SPI_DEPTH 8

static int	spi_depth = 0;
static MemoryContext spi_saved[STUB_SPI_DEPTH];	/* current at SPI_connect */
static MemoryContext spi_proc[STUB_SPI_DEPTH];

/* A "SPI Proc" context under the current one, made current. */
int
SPI_connect(void)
{
	if (spi_depth == STUB_SPI_DEPTH)
		elog(ERROR, "stub SPI nested too deeply");
	spi_saved[spi_depth] = CurrentMemoryContext;
	spi_proc[spi_depth] = AllocSetContextCreate(CurrentMemoryContext, "SPI Proc",
												ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(spi_proc[spi_depth]);
	spi_depth++;
	SPI_processed = 0;
	SPI_tuptable = NULL;
	return SPI_OK_CONNECT;
}

/* Back to the caller's context; the SPI Proc one (and its results) freed. */
int
SPI_finish(void)
{
	if (spi_depth == 0)
		return SPI_ERROR_UNCONNECTED;
	spi_depth--;
	MemoryContextSwitchTo(spi_saved[spi_depth]);
	MemoryContextDelete(spi_proc[spi_depth]);
	SPI_processed = 0;
	SPI_tuptable = NULL;
	return SPI_OK_FINISH;
}

/* Memory in the caller's context, which outlives SPI_finish. */
void *
SPI_palloc(Size size)
{
	if (spi_depth == 0)
		elog(ERROR, "SPI_palloc called while not connected to SPI");
	return MemoryContextAlloc(spi_saved[spi_depth - 1], size);
}

/* Forget the connections an ERROR left open (the harness frees their memory). */
void
stub_spi_abort(void)
{
	spi_depth = 0;
	SPI_processed = 0;
	SPI_tuptable = NULL;
}

/* A virtual slot of natts columns over values and isnull, as a DestReceiver gets it. */
void
stub_slot_init(TupleTableSlot *slot, int natts, Datum *values, bool *isnull)
{
	TupleDesc	desc = palloc0(offsetof(struct TupleDescData, attrs) +
							   natts * sizeof(FormData_pg_attribute));

	desc->natts = natts;
	memset(slot, 0, sizeof(*slot));
	slot->tts_tupleDescriptor = desc;
	slot->tts_values = values;
	slot->tts_isnull = isnull;
	slot->tts_nvalid = natts;
}

/* The harnesses build plain, uncompressed values: nothing to detoast. */
struct varlena *
pg_detoast_datum(struct varlena *datum)
{
	if (VARATT_IS_EXTENDED(datum) && !VARATT_IS_SHORT(datum))
		elog(ERROR, "stub cannot detoast");
	return datum;
}

struct varlena *
pg_detoast_datum_packed(struct varlena *datum)
{
	return datum;
}

void
ProcessInterrupts(void)
{
	InterruptPending = false;
}

/* -------------------------------------------------------------- errors */

static int	cur_elevel;

bool
errstart(int elevel, const char *domain)
{
	cur_elevel = elevel;
	if (elevel < ERROR)
		return false;
	stub_errcode = ERRCODE_INTERNAL_ERROR;
	stub_errmsg[0] = '\0';
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (cur_elevel >= ERROR)
	{
		if (stub_jump == NULL)
			abort();
		siglongjmp(*stub_jump, 1);
	}
}

int
errcode(int sqlerrcode)
{
	stub_errcode = sqlerrcode;
	return 0;
}

int
errmsg(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	vsnprintf(stub_errmsg, sizeof(stub_errmsg), fmt, args);
	va_end(args);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	vsnprintf(stub_errmsg, sizeof(stub_errmsg), fmt, args);
	va_end(args);
	return 0;
}

/* Details and hints are formatted (to catch bad arguments) and dropped. */
int
errdetail(const char *fmt,...)
{
	va_list		args;
	char		buf[1024];

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	return 0;
}

int
errhint(const char *fmt,...)
{
	va_list		args;
	char		buf[1024];

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	return 0;
}

/* ---------------------------------------------------------------- lists */

/*
 * lappend and list_make1 after nodes/pg_list.h's contract (a List of
 * pointers, the cells in one array that grows): what cf_chart_lines uses.
 */
static List *
stub_new_list(NodeTag type, int max)
{
	List	   *list = palloc(offsetof(List, initial_elements) + max * sizeof(ListCell));

	list->type = type;
	list->length = 0;
	list->max_length = max;
	list->elements = list->initial_elements;
	return list;
}

List *
lappend(List *list, void *datum)
{
	if (list == NIL)
		list = stub_new_list(T_List, 4);
	else if (list->length == list->max_length)
	{
		ListCell   *cells = palloc(2 * list->max_length * sizeof(ListCell));

		memcpy(cells, list->elements, list->length * sizeof(ListCell));
		list->elements = cells;
		list->max_length *= 2;
	}
	list->elements[list->length++].ptr_value = datum;
	return list;
}

List *
list_make1_impl(NodeTag t, ListCell datum1)
{
	List	   *list = stub_new_list(t, 1);

	list->elements[0] = datum1;
	list->length = 1;
	return list;
}

/* ---------------------------------------------------------- binaryheap */

binaryheap *
binaryheap_allocate(int capacity, binaryheap_comparator compare, void *arg)
{
	binaryheap *heap = palloc(offsetof(binaryheap, bh_nodes) + sizeof(Datum) * capacity);

	heap->bh_space = capacity;
	heap->bh_compare = compare;
	heap->bh_arg = arg;
	heap->bh_size = 0;
	heap->bh_has_heap_property = true;
	return heap;
}

void
binaryheap_reset(binaryheap *heap)
{
	heap->bh_size = 0;
	heap->bh_has_heap_property = true;
}

void
binaryheap_add_unordered(binaryheap *heap, Datum d)
{
	if (heap->bh_size >= heap->bh_space)
		elog(ERROR, "out of binary heap slots");
	heap->bh_has_heap_property = false;
	heap->bh_nodes[heap->bh_size++] = d;
}

/* forward: restore the heap property below node i */
static void sift_down(binaryheap *heap, int i);

void
binaryheap_build(binaryheap *heap)
{
	for (int i = heap->bh_size / 2 - 1; i >= 0; i--)
		sift_down(heap, i);
	heap->bh_has_heap_property = true;
}

void
binaryheap_free(binaryheap *heap)
{
	pfree(heap);
}

/* Swap nodes i and j. */
static void
heap_swap(binaryheap *heap, int i, int j)
{
	Datum		t = heap->bh_nodes[i];

	heap->bh_nodes[i] = heap->bh_nodes[j];
	heap->bh_nodes[j] = t;
}

/* Move node i up while it is greater than its parent. */
static void
sift_up(binaryheap *heap, int i)
{
	while (i > 0)
	{
		int			parent = (i - 1) / 2;

		if (heap->bh_compare(heap->bh_nodes[i], heap->bh_nodes[parent], heap->bh_arg) <= 0)
			break;
		heap_swap(heap, i, parent);
		i = parent;
	}
}

/* Move node i down while a child is greater. */
static void
sift_down(binaryheap *heap, int i)
{
	for (;;)
	{
		int			left = 2 * i + 1;
		int			right = left + 1;
		int			largest = i;

		if (left < heap->bh_size &&
			heap->bh_compare(heap->bh_nodes[left], heap->bh_nodes[largest], heap->bh_arg) > 0)
			largest = left;
		if (right < heap->bh_size &&
			heap->bh_compare(heap->bh_nodes[right], heap->bh_nodes[largest], heap->bh_arg) > 0)
			largest = right;
		if (largest == i)
			break;
		heap_swap(heap, i, largest);
		i = largest;
	}
}

void
binaryheap_add(binaryheap *heap, Datum d)
{
	if (heap->bh_size >= heap->bh_space)
		elog(ERROR, "out of binary heap slots");
	heap->bh_nodes[heap->bh_size] = d;
	heap->bh_size++;
	sift_up(heap, heap->bh_size - 1);
}

Datum
binaryheap_first(binaryheap *heap)
{
	if (heap->bh_size == 0)
		abort();
	return heap->bh_nodes[0];
}

Datum
binaryheap_remove_first(binaryheap *heap)
{
	Datum		result = binaryheap_first(heap);

	heap->bh_size--;
	if (heap->bh_size > 0)
	{
		heap->bh_nodes[0] = heap->bh_nodes[heap->bh_size];
		sift_down(heap, 0);
	}
	return result;
}

void
binaryheap_replace_first(binaryheap *heap, Datum d)
{
	if (heap->bh_size == 0)
		abort();
	heap->bh_nodes[0] = d;
	sift_down(heap, 0);
}

/* -------------------------------------------------------------- arrays */

/* Whether an array has a NULL element, as arrayfuncs.c. */
bool
array_contains_nulls(ArrayType *array)
{
	bits8	   *bitmap = ARR_NULLBITMAP(array);
	int			n = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));

	if (bitmap == NULL)
		return false;
	for (int j = 0; j < n; j++)
		if ((bitmap[j / 8] & (1 << (j % 8))) == 0)
			return true;
	return false;
}

/* Number of elements of an array of these dimensions, as arrayutils.c. */
int
ArrayGetNItems(int ndim, const int *dims)
{
	int64		n = 1;

	if (ndim <= 0)
		return 0;
	for (int i = 0; i < ndim; i++)
	{
		if (dims[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("array size exceeds the maximum allowed (%d)", (int) MaxArraySize)));
		n *= dims[i];
		if (n > (int64) MaxArraySize)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("array size exceeds the maximum allowed (%d)", (int) MaxArraySize)));
	}
	return (int) n;
}

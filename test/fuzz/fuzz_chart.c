/*-------------------------------------------------------------------------
 *
 * fuzz_chart.c
 *	  libFuzzer harness for cf_training_chart (src/manage.c): the text plot
 *	  of a model's training log.
 *
 * The log is a table anyone owning a model can edit by hand, so an input
 * is any log: the model's epoch_kept (any int32, or NULL, or no model row
 * at all), 0 to 2000 epochs of (loss, validation_rmse or NULL) with any
 * bits (NaN, infinities, DBL_MAX, subnormals, huge and tiny magnitudes,
 * runs of one value), and the width (10..1000) and height (3..100) asked
 * for, sometimes out of range.  The stubbed SPI statements return those
 * rows; the lines the function puts into its result are recorded.  A
 * finding is a crash or sanitizer report (UBSan reports a float-to-int
 * conversion out of range), an error other than the range errors of width
 * and height (22023) or the missing model (42704), or a chart that is not
 * one: a line with an embedded NUL, a count of lines other than height + 3,
 * a grid row longer than the label width + 2 + the columns, a label wider
 * than 16, a plotted point missing, doubled or out of value order, or the
 * kept epoch's mark in the wrong column.
 *
 *-------------------------------------------------------------------------
 */
#include "pgstub.h"

#include <float.h>
#include <stdlib.h>

#include "../../src/manage.c"

#include "fuzzinput.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

#define MAX_EPOCHS 2000
#define MAX_LINES (MAX_HEIGHT + 8)
#define MAX_LABEL 16

/* The fuzzed tables: the model row and the log, as the SQL would return them. */
static bool has_model;
static bool kept_null;
static int32 kept_value;
static int	nepochs;
static double log_loss[MAX_EPOCHS];
static double log_val[MAX_EPOCHS];
static bool log_val_null[MAX_EPOCHS];
static const char *model_name;

/* One returned row (what SPI_tuptable->vals point to) and the result's shape. */
typedef struct StubRow
{
	Datum		values[2];
	bool		nulls[2];
} StubRow;

static TupleDesc result_desc;
static int	result_natts;

/* The lines cf_training_chart put into its result. */
static char *lines[MAX_LINES];
static int	nlines;
static int	store_dummy;	/* stands for the tuplestore */

/* A text argument's string, checked to hold no NUL. */
static char *
text_arg(Datum d)
{
	text	   *t = (text *) DatumGetPointer(d);

	REQUIRE(memchr(VARDATA_ANY(t), '\0', VARSIZE_ANY_EXHDR(t)) == NULL);
	return text_to_cstring(t);
}

/* cf_extension_schema's lookup: every function is in one schema. */
Oid
get_func_namespace(Oid funcid)
{
	return 2200;
}

/* SETOF text: a result with the expected descriptor. */
void
InitMaterializedSRF(FunctionCallInfo fcinfo, bits32 flags)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	REQUIRE(rsinfo != NULL && IsA(rsinfo, ReturnSetInfo));
	REQUIRE((rsinfo->allowedModes & SFRM_Materialize) && rsinfo->expectedDesc != NULL);
	REQUIRE(flags == MAT_SRF_USE_EXPECTED_DESC);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = (Tuplestorestate *) &store_dummy;
	rsinfo->setDesc = rsinfo->expectedDesc;
}

/* Record one line of the result (a copy, as the tuplestore keeps one). */
void
tuplestore_putvalues(Tuplestorestate *state, TupleDesc tdesc, Datum *values, bool *isnull)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	REQUIRE(state == (Tuplestorestate *) &store_dummy && !isnull[0]);
	REQUIRE(nlines < MAX_LINES);
	lines[nlines++] = text_arg(values[0]);
	MemoryContextSwitchTo(old);
}

/* The two queries: the model's epoch_kept, and its log in epoch order. */
int
SPI_execute_with_args(const char *src, int nargs, Oid *argtypes, Datum *values,
					  const char *nulls, bool read_only, long tcount)
{
	bool		is_log = strstr(src, "cf_training_log") != NULL;
	int			nrows = is_log ? nepochs : (has_model ? 1 : 0);
	StubRow    *rows = palloc0(sizeof(StubRow) * nrows);	/* exact: ASan sees overreads */

	REQUIRE(nargs == 1 && argtypes[0] == TEXTOID && nulls == NULL);
	REQUIRE(strcmp(text_arg(values[0]), model_name) == 0);
	REQUIRE(is_log ? strstr(src, "ORDER BY epoch") != NULL :
			strstr(src, "SELECT epoch_kept FROM cf_fuzz.cf_models") != NULL);
	result_natts = is_log ? 2 : 1;
	result_desc = palloc0(offsetof(struct TupleDescData, attrs) +
						  result_natts * sizeof(FormData_pg_attribute));
	result_desc->natts = result_natts;
	SPI_tuptable = palloc0(sizeof(SPITupleTable));
	SPI_tuptable->tupdesc = result_desc;
	SPI_tuptable->vals = palloc(sizeof(HeapTuple) * nrows);
	SPI_tuptable->numvals = nrows;
	for (int j = 0; j < nrows; j++)
	{
		if (is_log)
		{
			rows[j].values[0] = Float8GetDatum(log_loss[j]);
			rows[j].values[1] = Float8GetDatum(log_val[j]);
			rows[j].nulls[1] = log_val_null[j];
		}
		else
		{
			rows[j].values[0] = Int32GetDatum(kept_value);
			rows[j].nulls[0] = kept_null;
		}
		SPI_tuptable->vals[j] = (HeapTuple) &rows[j];
	}
	SPI_processed = nrows;
	return SPI_OK_SELECT;
}

/* Column fnumber (1-based) of a returned row. */
Datum
SPI_getbinval(HeapTuple tuple, TupleDesc tupdesc, int fnumber, bool *isnull)
{
	StubRow    *row = (StubRow *) tuple;

	REQUIRE(tupdesc == result_desc && fnumber >= 1 && fnumber <= result_natts);
	*isnull = row->nulls[fnumber - 1];
	return row->nulls[fnumber - 1] ? (Datum) 0 : row->values[fnumber - 1];
}

/* A log value: a run of the last one, a special, raw bits, or one of a few scales. */
static double
take_log_value(FuzzInput *in, uint8_t sel, double prev)
{
	static const double special[] = {
		0.0, -0.0, NAN, -NAN, INFINITY, -INFINITY, DBL_MAX, -DBL_MAX, DBL_MIN,
		-DBL_MIN, DBL_TRUE_MIN, -DBL_TRUE_MIN, 1e308, -1e308, 999999.99996,
		-999999.99996, 1e6, -1e6, 1.0, 0.5, DBL_MAX / 2, 1e-300, 2 * DBL_TRUE_MIN
	};

	switch (sel & 7)
	{
		case 0:
			return prev;
		case 1:
			return special[take_u8(in) % lengthof(special)];
		case 2:
			return take_double(in);
		case 3:
			return (int8) take_u8(in) / 16.0;
		case 4:
			/* next to the last value, at any magnitude */
			return nextafter(prev, (take_u8(in) & 1) ? INFINITY : -INFINITY);
		case 5:
			/* a falling loss */
			return isfinite(prev) ? prev * (1 - take_u8(in) / 1024.0) : 1.0;
		case 6:
			return ldexp((int8) take_u8(in), (int) (take_u32(in) % 2200) - 1100);
		default:
			return take_float(in);
	}
}

static const double *cmp_values;

/* qsort order of point numbers by their value (all finite). */
static int
cmp_by_value(const void *a, const void *b)
{
	double		x = cmp_values[*(const int *) a];
	double		y = cmp_values[*(const int *) b];

	return (x > y) - (x < y);
}

/* Check the lines of a chart of the fuzzed log (called when it returned). */
static void
check_chart(int32 width, int32 height)
{
	int32		kept = kept_null ? 0 : kept_value;
	int			ncols = Min(nepochs, width);
	const char *axis;
	const char *title_end;
	int			lw;
	double	   *pv;				/* plotted points: value, row */
	int		   *pr;
	int			np = 0;

	if (nepochs == 0)
	{
		REQUIRE(nlines == 1);
		REQUIRE(strcmp(lines[0], psprintf("model \"%s\" has no training log", model_name)) == 0);
		return;
	}
	REQUIRE(nlines == height + 3);
	title_end = psprintf("model \"%s\": loss (*)", model_name);
	REQUIRE(strncmp(lines[0], title_end, strlen(title_end)) == 0);

	/* the axis: lw blanks, " +", one mark per column */
	axis = lines[height + 1];
	REQUIRE(strchr(axis, '+') != NULL);
	lw = (int) (strchr(axis, '+') - axis) - 1;
	REQUIRE(lw >= LABEL_WIDTH && lw <= MAX_LABEL);
	REQUIRE((int) strspn(axis, " ") == lw + 1);
	REQUIRE((int) strlen(axis) == lw + 2 + ncols);
	for (int c = 0; c < ncols; c++)
	{
		int			first = (int) ((int64) c * nepochs / ncols);
		int			last = (int) ((int64) (c + 1) * nepochs / ncols) - 1;
		bool		mark = kept >= first + 1 && kept <= last + 1 && kept != nepochs;

		REQUIRE(axis[lw + 2 + c] == (mark ? '^' : '-'));
	}
	REQUIRE(strspn(lines[height + 2], " ") == (size_t) lw + 2);
	REQUIRE(strlen(lines[height + 2]) >= 7 &&
			strcmp(lines[height + 2] + strlen(lines[height + 2]) - 7, "  epoch") == 0);

	/* grid rows: label, " |", cells of " *o@" */
	for (int r = 0; r < height; r++)
	{
		const char *line = lines[1 + r];
		int			len = (int) strlen(line);

		REQUIRE(len >= lw + 2 && len <= lw + 2 + ncols);
		REQUIRE(line[lw] == ' ' && line[lw + 1] == '|');
		if (r != 0 && r != height - 1 && r != (height - 1) / 2)
			REQUIRE((int) strspn(line, " ") >= lw);
		for (int j = lw + 2; j < len; j++)
			REQUIRE(strchr(" *o@", line[j]) != NULL);
	}

	/* each finite value plotted once in its column, rows in value order */
	pv = palloc(sizeof(double) * 2 * ncols);
	pr = palloc(sizeof(int) * 2 * ncols);
	for (int c = 0; c < ncols; c++)
	{
		int			last = (int) ((int64) (c + 1) * nepochs / ncols) - 1;
		double		v[2] = {log_loss[last], log_val_null[last] ? NAN : log_val[last]};
		int			row[2] = {-1, -1};

		for (int r = 0; r < height; r++)
		{
			const char *line = lines[1 + r];
			char		cell = (int) strlen(line) > lw + 2 + c ? line[lw + 2 + c] : ' ';

			for (int s = 0; s < 2; s++)
				if (cell == '@' || cell == (s == 0 ? '*' : 'o'))
				{
					REQUIRE(row[s] < 0);
					row[s] = r;
				}
		}
		for (int s = 0; s < 2; s++)
		{
			REQUIRE((row[s] >= 0) == (bool) isfinite(v[s]));
			if (row[s] >= 0)
			{
				pv[np] = v[s];
				pr[np++] = row[s];
			}
		}
	}
	/* by value: a higher value is never on a lower row, equal ones share one */
	{
		int		   *order = palloc(sizeof(int) * Max(np, 1));

		for (int j = 0; j < np; j++)
			order[j] = j;
		cmp_values = pv;
		qsort(order, np, sizeof(int), cmp_by_value);
		for (int j = 1; j < np; j++)
		{
			double		a = pv[order[j - 1]];
			double		b = pv[order[j]];

			REQUIRE(a == b ? pr[order[j - 1]] == pr[order[j]] : pr[order[j - 1]] >= pr[order[j]]);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput	in = {data, size};
	uint8_t		mode = take_u8(&in);
	bool		out_of_range = (mode >> 5) == 7;
	bool		has_val = (mode >> 5) != 6;	/* else a log of 0.1.0, without one */
	int32		width = 10 + take_u32(&in) % 991;
	int32		height = 3 + take_u8(&in) % 98;
	uint8_t		count = take_u8(&in);
	char		name[32];
	int			namelen = 1 + take_u8(&in) % 24;
	double		prev = 1.0;
	ReturnSetInfo rsinfo;
	FmgrInfo	flinfo;
	volatile bool raised = true;
	sigjmp_buf	env;

	LOCAL_FCINFO(fcinfo, 3);

	if (out_of_range)
	{
		width = take_i32(&in);
		height = take_i32(&in);
	}
	/* a few epochs (the edges of grouping), or up to 2000 */
	nepochs = (count & 1) ? (count >> 1) % 8 :
		(int) ((count >> 1) | (take_u8(&in) << 7)) % (MAX_EPOCHS + 1);
	has_model = (mode & 7) != 0;
	kept_null = ((mode >> 3) & 3) == 0;
	kept_value = ((mode >> 3) & 3) == 1 ? take_i32(&in) : (int32) (take_u8(&in) % (nepochs + 5)) - 2;
	take_bytes(&in, name, namelen);
	for (int j = 0; j < namelen; j++)
		if (name[j] == '\0')
			name[j] = 'x';
	name[namelen] = '\0';
	model_name = name;
	for (int e = 0; e < nepochs; e++)
	{
		uint8_t		sel = take_u8(&in);

		log_loss[e] = prev = take_log_value(&in, sel, prev);
		log_val_null[e] = !has_val || (sel >> 3) == 31;
		log_val[e] = log_val_null[e] ? 0 : take_log_value(&in, sel >> 3, log_loss[e]);
	}

	/* the call, as the executor makes it for SETOF text */
	memset(&flinfo, 0, sizeof(flinfo));
	flinfo.fn_oid = 16500;
	memset(&rsinfo, 0, sizeof(rsinfo));
	rsinfo.type = T_ReturnSetInfo;
	rsinfo.allowedModes = SFRM_ValuePerCall | SFRM_Materialize;
	rsinfo.expectedDesc = palloc0(offsetof(struct TupleDescData, attrs) +
								  sizeof(FormData_pg_attribute));
	rsinfo.expectedDesc->natts = 1;
	fcinfo->flinfo = &flinfo;
	fcinfo->resultinfo = (Node *) &rsinfo;
	fcinfo->nargs = 3;
	fcinfo->args[0].value = CStringGetTextDatum(name);
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = Int32GetDatum(width);
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = Int32GetDatum(height);
	fcinfo->args[2].isnull = false;
	nlines = 0;

	stub_jump = &env;
	if (sigsetjmp(env, 0) == 0)
	{
		cf_training_chart(fcinfo);
		raised = false;
	}
	stub_jump = NULL;

	if (width < MIN_WIDTH || width > MAX_WIDTH || height < MIN_HEIGHT || height > MAX_HEIGHT)
		REQUIRE(raised && stub_errcode == ERRCODE_INVALID_PARAMETER_VALUE);
	else if (!has_model)
		REQUIRE(raised && stub_errcode == ERRCODE_UNDEFINED_OBJECT);
	else
	{
		REQUIRE(!raised);
		check_chart(width, height);
	}
	stub_reset_memory();
	return 0;
}

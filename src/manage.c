/*-------------------------------------------------------------------------
 *
 * manage.c
 *	  Model management: cf_drop_model, cf_rename_model, cf_copy_model and
 *	  cf_training_chart.
 *
 * A model is its cf_models row plus its rows in cf_user_factors,
 * cf_item_factors and cf_training_log, which follow the cf_models row on
 * DELETE and on a change of name (the cf_models_cascade trigger).  These
 * functions are thin: each takes the model names' training locks
 * (cf_lock_model, in a fixed order), so it runs strictly before or after
 * any training of those names, and then runs plain SQL through SPI as the
 * caller, so privileges and row-level security on the model tables apply
 * as to the caller's own statements.  Renaming and copying cost one write
 * per row of the model (the trigger updates every factor row; a copy
 * inserts them anew); a renamed model's factor cache entries are keyed by
 * the old name and are simply not used again.
 *
 * cf_training_chart plots a model's cf_training_log as text: the loss and
 * (when the training held out a validation set) the validation RMSE per
 * epoch, on one shared vertical scale, one column per epoch or per group
 * of epochs, the kept epoch marked on the axis.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "cache.h"
#include "citus.h"
#include "manage.h"
#include "model.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_drop_model);
PG_FUNCTION_INFO_V1(cf_rename_model);
PG_FUNCTION_INFO_V1(cf_copy_model);
PG_FUNCTION_INFO_V1(cf_training_chart);
PG_FUNCTION_INFO_V1(cf_models_cascade);

/* The columns of cf_models a copy carries over (not the name, version, owner, reader). */
#define MODEL_COPY_COLUMNS \
	"source, user_column, item_column, rating_column, algorithm, hyperparameters," \
	" factors, users, items, ratings, global_mean, rating_min, rating_max, epochs," \
	" epoch_kept, loss, rmse, seconds, trained_at"

/* Run a statement with text parameters $1 (and $2); returns rows processed. */
static uint64
run(const char *sql, int expected, const char *a, const char *b)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	int			ret;

	values[0] = CStringGetTextDatum(a);
	values[1] = b ? CStringGetTextDatum(b) : (Datum) 0;
	ret = SPI_execute_with_args(sql, b ? 2 : 1, types, values, NULL, false, 0);
	if (ret != expected)
		elog(ERROR, "\"%s\" failed: %s", sql, SPI_result_code_string(ret));
	return SPI_processed;
}

/* A statement for run(), to pass as one argument. */
typedef struct Statement
{
	const char *sql;
	int			expected;
	const char *a;
	const char *b;
} Statement;

/* run() a Statement. */
static void
run_statement(void *arg)
{
	Statement  *st = arg;

	run(st->sql, st->expected, st->a, st->b);
}

/* Run a statement without parameters. */
static void
run_plain(const char *sql)
{
	int			ret = SPI_execute(sql, false, 0);

	if (ret < 0)
		elog(ERROR, "\"%s\" failed: %s", sql, SPI_result_code_string(ret));
}

/* Whether the caller sees a model of this name (inside SPI). */
static bool
model_exists(Oid nsp, const char *name)
{
	return run(psprintf("SELECT FROM %s WHERE name OPERATOR(pg_catalog.=) $1",
						cf_table(nsp, "cf_models")),
			   SPI_OK_SELECT, name, NULL) > 0;
}

/* Error: the model does not exist. */
static void
no_such_model(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("model \"%s\" does not exist", name),
			 errhint("See the trained models in cf_models.")));
}

/* Error: the caller may not change a model it can see. */
static void
not_allowed(const char *name, const char *action)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s model \"%s\"", action, name)));
}

/* Take the training locks of two model names, in a fixed order. */
static void
lock_two(const char *a, const char *b)
{
	if (strcmp(a, b) <= 0)
	{
		cf_lock_model(a);
		cf_lock_model(b);
	}
	else
	{
		cf_lock_model(b);
		cf_lock_model(a);
	}
}

/*
 * (Inside SPI) The user table of a model trained on a Citus cluster, as
 * the caller sees its row; NULL for other models and older tables.
 */
static char *
model_user_table(Oid nsp, const char *model)
{
	Oid			argtype = TEXTOID;
	Datum		arg = CStringGetTextDatum(model);

	if (get_attnum(get_relname_relid("cf_models", nsp), "user_table") == InvalidAttrNumber)
		return NULL;
	if (SPI_execute_with_args(psprintf("SELECT user_table FROM %s WHERE name OPERATOR(pg_catalog.=) $1",
									   cf_table(nsp, "cf_models")),
							  1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the model's user table failed");
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/*
 * cf_drop_model(model text, if_exists boolean) RETURNS boolean: true if
 * dropped; a missing model is an error, or with if_exists a NOTICE and
 * false.
 */
Datum
cf_drop_model(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	char	   *model = cf_model_name_arg(fcinfo, 0);
	bool		if_exists;
	bool		dropped;
	char	   *user_table;

	cf_require_arg(fcinfo, 1, "if_exists");
	if_exists = PG_GETARG_BOOL(1);
	cf_lock_model(model);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	user_table = model_user_table(nsp, model);
	dropped = run(psprintf("DELETE FROM %s WHERE name OPERATOR(pg_catalog.=) $1",
						   cf_table(nsp, "cf_models")),
				  SPI_OK_DELETE, model, NULL) > 0;
	/* a model trained on a Citus cluster: its user table goes with it */
	if (dropped && user_table != NULL)
		cf_citus_drop_user_table(user_table, model);
	if (!dropped && model_exists(nsp, model))
		not_allowed(model, "drop");
	SPI_finish();
	if (!dropped)
	{
		if (!if_exists)
			no_such_model(model);
		ereport(NOTICE,
				(errmsg("model \"%s\" does not exist, skipping", model)));
	}
	PG_RETURN_BOOL(dropped);
}

/* The new name argument (argument 1): non-NULL and non-empty. */
static char *
new_name_arg(FunctionCallInfo fcinfo)
{
	char	   *name;

	cf_require_arg(fcinfo, 1, "new_name");
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model name must not be empty")));
	if (strlen(name) > CF_MAX_MODEL_NAME)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("model name is too long"),
				 errdetail("The name has %zu bytes; the limit is %d.", strlen(name),
						   CF_MAX_MODEL_NAME)));
	return name;
}

/* Checks shared by rename and copy, inside SPI, locks held. */
static void
check_source_and_target(Oid nsp, const char *model, const char *new_name)
{
	if (!model_exists(nsp, model))
		no_such_model(model);
	cf_check_new_name(nsp, new_name);
}

/*
 * cf_rename_model(model text, new_name text) RETURNS void
 */
Datum
cf_rename_model(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	char	   *model = cf_model_name_arg(fcinfo, 0);
	char	   *new_name = new_name_arg(fcinfo);

	lock_two(model, new_name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	check_source_and_target(nsp, model, new_name);
	if (run(psprintf("UPDATE %s SET name = $2 WHERE name OPERATOR(pg_catalog.=) $1",
					 cf_table(nsp, "cf_models")),
			SPI_OK_UPDATE, model, new_name) == 0)
		not_allowed(model, "rename");
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * cf_copy_model(model text, new_name text) RETURNS void: a copy under a
 * new name, with a new version and all its rows
 */
Datum
cf_copy_model(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	char	   *model = cf_model_name_arg(fcinfo, 0);
	char	   *new_name = new_name_arg(fcinfo);
	const char *columns;
	bool		typed;

	lock_two(model, new_name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	check_source_and_target(nsp, model, new_name);
	if (model_user_table(nsp, model) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cf_copy_model does not support model \"%s\", whose users are on a Citus cluster",
						model),
				 errhint("Train the copy with cf_train under the new name instead.")));
	/* the copy belongs to the caller (the column's default) and keeps the reader */
	columns = get_attnum(get_relname_relid("cf_models", nsp), "reader") != InvalidAttrNumber ?
		MODEL_COPY_COLUMNS ", reader" : MODEL_COPY_COLUMNS;
	/* and, from 0.4.0 on, the id types and the keys of ids that are not integers */
	typed = get_attnum(get_relname_relid("cf_models", nsp), "user_type") != InvalidAttrNumber;
	if (typed)
		columns = psprintf("%s, user_type, item_type", columns);
	run(psprintf("INSERT INTO %s (name, version, %s)"
				 " SELECT $2, pg_catalog.nextval(%s::pg_catalog.regclass), %s"
				 " FROM %s WHERE name OPERATOR(pg_catalog.=) $1",
				 cf_table(nsp, "cf_models"), columns,
				 quote_literal_cstr(cf_table(nsp, "cf_model_version_seq")), columns,
				 cf_table(nsp, "cf_models")),
		SPI_OK_INSERT, model, new_name);
	run(psprintf("INSERT INTO %s (model, user_id, bias, factors, rated_items%s)"
				 " SELECT $2, user_id, bias, factors, rated_items%s FROM %s"
				 " WHERE model OPERATOR(pg_catalog.=) $1",
				 cf_table(nsp, "cf_user_factors"), typed ? ", user_key" : "",
				 typed ? ", user_key" : "", cf_table(nsp, "cf_user_factors")),
		SPI_OK_INSERT, model, new_name);
	/* (the copy's cf_models row is new: no cached items to invalidate) */
	cf_own_item_writes(run_statement,
					   &(Statement) {
						   psprintf("INSERT INTO %s (model, item_id, bias, factors%s)"
									" SELECT $2, item_id, bias, factors%s FROM %s"
									" WHERE model OPERATOR(pg_catalog.=) $1",
									cf_table(nsp, "cf_item_factors"),
									typed ? ", item_key" : "", typed ? ", item_key" : "",
									cf_table(nsp, "cf_item_factors")),
						   SPI_OK_INSERT, model, new_name
					   });
	run(psprintf("INSERT INTO %s (model, epoch, loss, rmse, seconds, validation_rmse)"
				 " SELECT $2, epoch, loss, rmse, seconds, validation_rmse FROM %s"
				 " WHERE model OPERATOR(pg_catalog.=) $1",
				 cf_table(nsp, "cf_training_log"), cf_table(nsp, "cf_training_log")),
		SPI_OK_INSERT, model, new_name);
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * The cascade
 */

/* What the cascade does: delete old_name's rows, rename them to new_name, or (old_name NULL) truncate. */
typedef struct Cascade
{
	Oid			nsp;
	const char *old_name;
	const char *new_name;
} Cascade;

/* The statements of the cascade, run as the caller. */
static void
cascade(void *arg)
{
	static const char *const tables[] = {"cf_user_factors", "cf_item_factors", "cf_training_log"};
	Cascade    *c = arg;

	if (c->old_name == NULL)
	{
		run_plain(psprintf("TRUNCATE %s, %s, %s", cf_table(c->nsp, tables[0]),
						   cf_table(c->nsp, tables[1]), cf_table(c->nsp, tables[2])));
		return;
	}
	for (int j = 0; j < lengthof(tables); j++)
	{
		if (c->new_name == NULL)
			run(psprintf("DELETE FROM %s WHERE model OPERATOR(pg_catalog.=) $1",
						 cf_table(c->nsp, tables[j])),
				SPI_OK_DELETE, c->old_name, NULL);
		else
			run(psprintf("UPDATE %s SET model = $2 WHERE model OPERATOR(pg_catalog.=) $1",
						 cf_table(c->nsp, tables[j])),
				SPI_OK_UPDATE, c->old_name, c->new_name);
	}
}

/* The text of the name column of a cf_models tuple. */
static char *
name_of(TriggerData *trigdata, HeapTuple tup)
{
	char	   *name = SPI_getvalue(tup, RelationGetDescr(trigdata->tg_relation),
									SPI_fnumber(RelationGetDescr(trigdata->tg_relation), "name"));

	if (name == NULL)
		elog(ERROR, "cf_models row without a name");
	return name;
}

/*
 * cf_models_cascade() RETURNS trigger: after a cf_models row is deleted,
 * or renamed, or the table truncated, delete, rename or truncate the
 * model's rows in cf_user_factors, cf_item_factors and cf_training_log.
 * Runs as the caller, after the row is gone (see the policies in cf.sql).
 * Its statements on cf_item_factors need no cache invalidation: the model
 * row they follow has gone or has a new row version.
 */
Datum
cf_models_cascade(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent event;
	Oid			nsp;
	const char *old_name = NULL;
	const char *new_name = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "cf_models_cascade must be called as a trigger");
	event = trigdata->tg_event;
	nsp = RelationGetNamespace(trigdata->tg_relation);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (TRIGGER_FIRED_BY_DELETE(event))
		old_name = name_of(trigdata, trigdata->tg_trigtuple);
	else if (TRIGGER_FIRED_BY_UPDATE(event))
	{
		old_name = name_of(trigdata, trigdata->tg_trigtuple);
		new_name = name_of(trigdata, trigdata->tg_newtuple);
		if (strcmp(old_name, new_name) == 0)
			old_name = NULL;	/* same name: nothing to do */
	}
	else if (!TRIGGER_FIRED_BY_TRUNCATE(event))
		elog(ERROR, "cf_models_cascade fired by an unexpected event");

	if (old_name != NULL || TRIGGER_FIRED_BY_TRUNCATE(event))
	{
		Cascade		c = {nsp, old_name, new_name};

		cf_own_item_writes(cascade, &c);
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * The chart
 */

#define MIN_WIDTH 10
#define MAX_WIDTH 1000
#define MIN_HEIGHT 3
#define MAX_HEIGHT 100
#define LABEL_WIDTH 8			/* at least: "  1.2345" before " |" */

/* One line of the chart into the result. */
static void
put_line(ReturnSetInfo *rsinfo, const char *line)
{
	Datum		value = CStringGetTextDatum(line);
	bool		isnull = false;

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
}

/*
 * The plot row (0 at the top) of a value in [lo, hi], at any magnitude:
 * the halves keep hi - lo finite, and the row is clamped, so no value of
 * a log (cf_train's or one written by hand) makes a row out of range.
 */
static int
row_of(double v, double lo, double hi, int height)
{
	double		r = floor((hi / 2 - v / 2) / (hi / 2 - lo / 2) * (height - 1) + 0.5);

	if (!(r >= 0))
		return 0;				/* also NaN */
	return (int) Min(r, height - 1);
}

/* The value at fraction t of the way from hi down to lo (no overflow). */
static double
value_at(double t, double lo, double hi)
{
	return hi * (1 - t) + lo * t;
}

/* A value axis label: 4 decimals, or 4 significant digits for large values. */
static char *
axis_label(double v)
{
	return fabs(v) < 1e6 ? psprintf("%.4f", v) : psprintf("%.4e", v);
}

/*
 * The lines of the chart of a training log: epochs epochs of loss and
 * validation RMSE (NaN: none), epoch kept (1-based; 0: none), at most width
 * columns and height rows.  Any values draw (NaN and infinities are left
 * out); cf_training_chart draws the stored log, cf_train its own trace.
 */
List *
cf_chart_lines(const char *model, int epochs, const double *loss, const double *val, int kept,
			   int width, int height)
{
	List	   *lines = NIL;
	bool		have_val = false;
	int			ncols;
	double	   *cl;				/* per column: the loss, validation RMSE */
	double	   *cv;
	int		   *kept_col;
	double		lo = get_float8_infinity();
	double		hi = -get_float8_infinity();
	char	  **grid;
	char	  **labels;
	int			label_width = LABEL_WIDTH;
	StringInfoData line;

	if (epochs == 0)
		return list_make1(psprintf("model \"%s\" has no training log", model));
	for (int e = 0; e < epochs; e++)
		have_val |= !isnan(val[e]);
	/* one column per epoch, or per group of epochs (showing the group's last) */
	ncols = Min(epochs, width);
	cl = palloc(ncols * sizeof(double));
	cv = palloc(ncols * sizeof(double));
	kept_col = palloc(ncols * sizeof(int));
	for (int c = 0; c < ncols; c++)
	{
		int			first = (int) ((int64) c * epochs / ncols);
		int			last = (int) ((int64) (c + 1) * epochs / ncols) - 1;

		cl[c] = loss[last];
		cv[c] = val[last];
		kept_col[c] = kept >= first + 1 && kept <= last + 1;
		if (isfinite(cl[c]))
		{
			lo = Min(lo, cl[c]);
			hi = Max(hi, cl[c]);
		}
		if (isfinite(cv[c]))
		{
			lo = Min(lo, cv[c]);
			hi = Max(hi, cv[c]);
		}
	}
	if (!(hi > lo))
	{
		/* one value (or none): a band around it that is wide at its scale */
		double		pad = isfinite(lo) ? Max(fabs(lo) * 1e-6, 1e-6) : 1;

		if (!isfinite(lo))
			lo = hi = 0;
		/* (at the limits of double precision the band stops at them) */
		lo = Max(lo - pad, -DBL_MAX);
		hi = Min(hi + pad, DBL_MAX);
	}

	grid = palloc(height * sizeof(char *));
	for (int r = 0; r < height; r++)
	{
		grid[r] = palloc(ncols + 1);
		memset(grid[r], ' ', ncols);
		grid[r][ncols] = '\0';
	}
	for (int c = 0; c < ncols; c++)
	{
		if (isfinite(cl[c]))
			grid[row_of(cl[c], lo, hi, height)][c] = '*';
		if (isfinite(cv[c]))
		{
			char	   *cell = &grid[row_of(cv[c], lo, hi, height)][c];

			*cell = *cell == '*' ? '@' : 'o';
		}
	}

	initStringInfo(&line);
	appendStringInfo(&line, "model \"%s\": loss (*)%s per epoch, %d epoch%s",
					 model, have_val ? " and validation rmse (o), @ both," : "",
					 epochs, epochs == 1 ? "" : "s");
	if (kept > 0 && kept != epochs)
		appendStringInfo(&line, ", epoch %d kept (^)", kept);
	lines = lappend(lines, pstrdup(line.data));
	/* labels at the top, middle and bottom, all as wide as the widest */
	labels = palloc0(height * sizeof(char *));
	for (int r = 0; r < height; r++)
		if (r == 0 || r == height - 1 || r == (height - 1) / 2)
		{
			labels[r] = axis_label(value_at((double) r / (height - 1), lo, hi));
			label_width = Max(label_width, (int) strlen(labels[r]));
		}
	for (int r = 0; r < height; r++)
	{
		resetStringInfo(&line);
		appendStringInfo(&line, "%*s |", label_width, labels[r] ? labels[r] : "");
		appendStringInfoString(&line, grid[r]);
		/* no trailing blanks */
		while (line.len > 0 && line.data[line.len - 1] == ' ')
			line.data[--line.len] = '\0';
		lines = lappend(lines, pstrdup(line.data));
	}
	resetStringInfo(&line);
	appendStringInfo(&line, "%*s +", label_width, "");
	for (int c = 0; c < ncols; c++)
		appendStringInfoChar(&line, kept_col[c] && kept != epochs ? '^' : '-');
	lines = lappend(lines, pstrdup(line.data));
	resetStringInfo(&line);
	appendStringInfo(&line, "%*s  1", label_width, "");
	if (epochs > 1)
	{
		char	   *last = psprintf("%d", epochs);

		appendStringInfo(&line, "%*s", Max(ncols - 1, (int) strlen(last) + 1), last);
	}
	appendStringInfoString(&line, "  epoch");
	lines = lappend(lines, pstrdup(line.data));
	return lines;
}

/*
 * cf_training_chart(model text, width int, height int) RETURNS SETOF text
 */
Datum
cf_training_chart(PG_FUNCTION_ARGS)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *model = cf_model_name_arg(fcinfo, 0);
	int32		width;
	int32		height;
	int			epochs;
	int			kept = 0;
	double	   *loss;
	double	   *val;
	bool		isnull;
	Datum		d;
	ListCell   *lc;

	cf_require_arg(fcinfo, 1, "width");
	cf_require_arg(fcinfo, 2, "height");
	width = PG_GETARG_INT32(1);
	height = PG_GETARG_INT32(2);
	cf_check_int_arg("width", width, MIN_WIDTH, MAX_WIDTH);
	cf_check_int_arg("height", height, MIN_HEIGHT, MAX_HEIGHT);
	/* SETOF text: the one-column descriptor the executor expects */
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	/* the model's kept epoch and its log, as the caller sees them */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (run(psprintf("SELECT epoch_kept FROM %s WHERE name OPERATOR(pg_catalog.=) $1",
					 cf_table(nsp, "cf_models")),
			SPI_OK_SELECT, model, NULL) == 0)
		no_such_model(model);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		kept = DatumGetInt32(d);
	epochs = (int) run(psprintf("SELECT loss, validation_rmse FROM %s"
								" WHERE model OPERATOR(pg_catalog.=) $1 ORDER BY epoch",
								cf_table(nsp, "cf_training_log")),
					   SPI_OK_SELECT, model, NULL);
	loss = SPI_palloc(Max(epochs, 1) * sizeof(double));
	val = SPI_palloc(Max(epochs, 1) * sizeof(double));
	for (int e = 0; e < epochs; e++)
	{
		loss[e] = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[e], SPI_tuptable->tupdesc,
											   1, &isnull));
		d = SPI_getbinval(SPI_tuptable->vals[e], SPI_tuptable->tupdesc, 2, &isnull);
		val[e] = isnull ? get_float8_nan() : DatumGetFloat8(d);
	}
	SPI_finish();

	foreach(lc, cf_chart_lines(model, epochs, loss, val, kept, width, height))
		put_line(rsinfo, (char *) lfirst(lc));
	return (Datum) 0;
}

/*-------------------------------------------------------------------------
 *
 * access.c
 *	  Who may read or change a model: the row-level security helpers of the
 *	  model tables, and acting as a model's owner.
 *
 * A model's cf_models row names its owner and, optionally, a reader role.
 * The row-level security policies of the four model tables (cf.sql) give:
 *
 *	read    a model without a reader: every role with SELECT on the tables;
 *	        with one: roles that have the privileges of its reader or of its
 *	        owner (pg_has_role USAGE, as for PostgreSQL's own objects)
 *	write   roles that have the privileges of its owner
 *
 * Owner and reader are role names (type name), not regrole: pg_dump writes
 * both the same way, but a regrole value naming a role the restoring
 * cluster lacks makes the whole table's COPY fail, where a name restores
 * and simply grants nothing until such a role exists.
 *
 * The factor and log tables' policies ask about their model's cf_models
 * row with cf_model_readable and cf_model_writable.  A subquery on
 * cf_models in the policy would see that table through its own policies,
 * so a model the caller may not read would look absent -- and an absent
 * model's rows must stay writable for the cascade trigger.  These
 * functions therefore read the row by its primary key directly, in the
 * query's snapshot, whatever the caller may see of cf_models; they reveal
 * nothing but their answer.  Each keeps its last answer for the query
 * (fn_extra), since a scan reads the rows of one model after another.
 *
 * cf_refresh_users reads the source that cf_models records, a value the
 * model's owner may edit.  Reading it with the rights of whoever runs the
 * refresh would let an owner point a more privileged role at a table the
 * owner cannot read (a confused deputy), so it reads as the owner
 * (cf_act_as_begin), the way REFRESH MATERIALIZED VIEW runs a view's query
 * as the view's owner.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "access.h"
#include "util.h"

PG_FUNCTION_INFO_V1(cf_has_role);
PG_FUNCTION_INFO_V1(cf_model_readable);
PG_FUNCTION_INFO_V1(cf_model_writable);

/* The OID of the role a model names; InvalidOid if no role has that name. */
Oid
cf_role_oid(const char *rolname)
{
	return get_role_oid(rolname, true);
}

/* Whether the current user has the privileges of a role. */
bool
cf_has_privileges_of(Oid role)
{
	return OidIsValid(role) && has_privs_of_role(GetUserId(), role);
}

/*
 * cf_has_role(role name) RETURNS boolean: pg_has_role(role, 'USAGE'),
 * but false rather than an error for a name no role has.
 */
Datum
cf_has_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(cf_has_privileges_of(cf_role_oid(NameStr(*PG_GETARG_NAME(0)))));
}

/*
 * Where cf_models' columns are, per schema, kept for the backend (looked up
 * again when the table's OID changes: a re-created extension).
 */
typedef struct ModelsLayout
{
	Oid			nsp;
	Oid			relid;			/* cf_models */
	AttrNumber	owner_att;
	AttrNumber	reader_att;
	Oid			collation;		/* of name */
} ModelsLayout;

static ModelsLayout layout;

/* What a policy function keeps for its query: its last answer. */
typedef struct ModelRowCache
{
	char	   *last;			/* model name of the last answer, or NULL */
	Oid			last_user;		/* the user it was for */
	bool		exists;			/* it has a cf_models row */
	bool		owner;			/* the caller has its owner's privileges */
	bool		reader;			/* ... or its reader's, or it has none */
} ModelRowCache;

/* cf_models of the calling function's schema, opened, its layout checked. */
static Relation
open_models(FunctionCallInfo fcinfo)
{
	Oid			nsp = cf_extension_schema(fcinfo);
	Oid			relid = get_relname_relid("cf_models", nsp);
	Relation	rel;

	if (!OidIsValid(relid))
		elog(ERROR, "relation \"cf_models\" of extension cf is missing");
	rel = table_open(relid, AccessShareLock);
	if (layout.nsp != nsp || layout.relid != relid)
	{
		TupleDesc	desc = RelationGetDescr(rel);

		layout.nsp = InvalidOid;
		layout.relid = relid;
		layout.owner_att = get_attnum(relid, "owner");
		layout.reader_att = get_attnum(relid, "reader");
		layout.collation = TupleDescAttr(desc, 0)->attcollation;
		if (layout.owner_att == InvalidAttrNumber || layout.reader_att == InvalidAttrNumber ||
			strcmp(NameStr(TupleDescAttr(desc, 0)->attname), "name") != 0)
			elog(ERROR, "relation \"cf_models\" of extension cf is not as this library expects");
		layout.nsp = nsp;
	}
	return rel;
}

/* The role named by a name column of a cf_models tuple, or InvalidOid (NULL, or no such role). */
static Oid
role_column(HeapTuple tup, Relation rel, AttrNumber att)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, att, RelationGetDescr(rel), &isnull);

	if (isnull || TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid != NAMEOID)
		return InvalidOid;
	return cf_role_oid(NameStr(*DatumGetName(d)));
}

/*
 * Look the named model's cf_models row up by its primary key, in the
 * query's snapshot, bypassing row-level security, and note what the
 * caller may do with it.
 */
static ModelRowCache *
model_access(FunctionCallInfo fcinfo)
{
	ModelRowCache *c = fcinfo->flinfo->fn_extra;
	text	   *name = PG_GETARG_TEXT_PP(0);
	char	   *str = text_to_cstring(name);
	Relation	rel;
	Oid			pkey;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;

	if (c == NULL)
		c = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ModelRowCache));
	if (c->last != NULL && c->last_user == GetUserId() && strcmp(c->last, str) == 0)
		return c;

	rel = open_models(fcinfo);
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid, layout.collation,
						   F_TEXTEQ, PointerGetDatum(name));
#if PG_VERSION_NUM >= 180000
	pkey = RelationGetPrimaryKeyIndex(rel, false);
#else
	pkey = RelationGetPrimaryKeyIndex(rel);
#endif
	scan = systable_beginscan(rel, pkey, true,
							  ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot(),
							  1, &key);
	tup = systable_getnext(scan);
	c->exists = HeapTupleIsValid(tup);
	c->owner = false;
	c->reader = true;
	if (c->exists)
	{
		bool		isnull;

		c->owner = cf_has_privileges_of(role_column(tup, rel, layout.owner_att));
		(void) heap_getattr(tup, layout.reader_att, RelationGetDescr(rel), &isnull);
		c->reader = isnull || c->owner ||
			cf_has_privileges_of(role_column(tup, rel, layout.reader_att));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (c->last)
		pfree(c->last);
	c->last = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, str);
	c->last_user = GetUserId();
	return c;
}

/*
 * cf_model_readable(model text) RETURNS boolean: the model has no reader,
 * or the caller has the privileges of its owner or reader, or it has no
 * cf_models row.
 */
Datum
cf_model_readable(PG_FUNCTION_ARGS)
{
	ModelRowCache *c = model_access(fcinfo);

	PG_RETURN_BOOL(!c->exists || c->reader);
}

/*
 * cf_model_writable(model text, must_exist boolean) RETURNS boolean: the
 * caller has the privileges of the model's owner, or the model has no
 * cf_models row and must_exist is false.
 */
Datum
cf_model_writable(PG_FUNCTION_ARGS)
{
	ModelRowCache *c = model_access(fcinfo);

	PG_RETURN_BOOL(c->exists ? c->owner : !PG_GETARG_BOOL(1));
}

/* Act as role until cf_act_as_end, in a security-restricted operation. */
void
cf_act_as_begin(Oid role, CfActingAs *saved)
{
	GetUserIdAndSecContext(&saved->saved_userid, &saved->saved_sec_context);
	SetUserIdAndSecContext(role, saved->saved_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	saved->saved_nestlevel = NewGUCNestLevel();
	/*
	 * Nothing resolves through the caller's search_path (RestrictSearchPath
	 * of PostgreSQL 17; cf's own queries qualify every name, so in a
	 * parallel worker, where no setting may change, it is left as it is).
	 */
	if (!IsInParallelMode())
		(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

/* Be the saved user again. */
void
cf_act_as_end(const CfActingAs *saved)
{
	AtEOXact_GUC(false, saved->saved_nestlevel);
	SetUserIdAndSecContext(saved->saved_userid, saved->saved_sec_context);
}

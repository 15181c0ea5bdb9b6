/*-------------------------------------------------------------------------
 *
 * access.h
 *	  Who may read or change a model: the row-level security helpers of the
 *	  model tables, and acting as a model's owner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_ACCESS_H
#define CF_ACCESS_H

/* The OID of a role named by a model's owner or reader column; InvalidOid if none. */
extern Oid	cf_role_oid(const char *rolname);

/* Whether the current user has the privileges of a role (pg_has_role USAGE). */
extern bool cf_has_privileges_of(Oid role);

/* The user identity saved while acting as another role (cf_act_as). */
typedef struct CfActingAs
{
	Oid			saved_userid;
	int			saved_sec_context;
	int			saved_nestlevel;
} CfActingAs;

/*
 * Act as role until cf_act_as_end: as REFRESH MATERIALIZED VIEW runs its
 * query as the view's owner, in a security-restricted operation (no
 * SET ROLE, no temporary objects, no GUC change that outlives it).  An
 * error ends it too (the transaction or subtransaction restores the user).
 */
extern void cf_act_as_begin(Oid role, CfActingAs *saved);
extern void cf_act_as_end(const CfActingAs *saved);

#endif							/* CF_ACCESS_H */

/*-------------------------------------------------------------------------
 *
 * algorithm.c
 *	  The table of algorithms.
 *
 * Every algorithm is one CfAlgorithm descriptor (train.h), defined beside
 * its trainer (sgd.c, als.c, baseline.c) and listed here, in the order
 * messages list them.  Everything else asks the descriptor: cf_train and
 * tuning look an algorithm argument up here, serving looks up the
 * algorithm a stored model names (cf_lookup), and every message that lists
 * algorithms is made from this table.  Adding an algorithm is its own file
 * and one line below.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "algorithm.h"
#include "als.h"
#include "baseline.h"
#include "sgd.h"

/* The algorithms, in the order messages list them. */
static const CfAlgorithm *const algorithms[] = {
	&cf_sgd_algorithm,
	&cf_als_algorithm,
	&cf_ials_algorithm,
	&cf_bayes_algorithm,
	&cf_baseline_algorithm,
	&cf_popular_algorithm,
};

/* The algorithm a stored model names, or NULL. */
const CfAlgorithm *
cf_algorithm_by_name(const char *name)
{
	for (int j = 0; j < lengthof(algorithms); j++)
		if (strcmp(algorithms[j]->name, name) == 0)
			return algorithms[j];
	return NULL;
}

/* The algorithm of a cf_train argument; error if there is none. */
const CfAlgorithm *
cf_find_algorithm(const char *name)
{
	const CfAlgorithm *alg = cf_algorithm_by_name(name);

	if (alg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown algorithm \"%s\"", name),
				 errhint("The algorithms are: %s.", cf_algorithm_list(NULL, 0, CF_LIST_PLAIN))));
	return alg;
}

/* The names of the algorithms that pass test, as a list for a message. */
char *
cf_algorithm_list(bool (*test) (const CfAlgorithm *alg, int arg), int arg, CfListStyle style)
{
	const CfAlgorithm *chosen[lengthof(algorithms)];
	int			n = 0;
	StringInfoData names;

	for (int j = 0; j < lengthof(algorithms); j++)
		if (test == NULL || test(algorithms[j], arg))
			chosen[n++] = algorithms[j];
	initStringInfo(&names);
	for (int j = 0; j < n; j++)
	{
		if (j > 0)
			appendStringInfoString(&names, style == CF_LIST_QUOTED_AND && j == n - 1 ? " and " : ", ");
		if (style == CF_LIST_PLAIN)
			appendStringInfoString(&names, chosen[j]->name);
		else
			appendStringInfo(&names, "\"%s\"", chosen[j]->name);
	}
	return names.data;
}

/* Whether an algorithm takes every argument in mask. */
bool
cf_algorithm_uses(const CfAlgorithm *alg, int mask)
{
	return (alg->uses & mask) == mask;
}

/* Whether users can be folded into an algorithm's models. */
bool
cf_algorithm_folds(const CfAlgorithm *alg, int unused)
{
	return alg->fold != CF_FOLD_UNSUPPORTED;
}

/* Whether an algorithm's scores can be explained. */
bool
cf_algorithm_explains(const CfAlgorithm *alg, int unused)
{
	return alg->explain != CF_EXPLAIN_UNSUPPORTED;
}

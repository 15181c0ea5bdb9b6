/*-------------------------------------------------------------------------
 *
 * fuzz_foldin.c
 *	  libFuzzer harness for folding a user into a trained model
 *	  (src/foldin.c: fold_check, fold_in, cf_fold_system, cf_fold_solve),
 *	  what cf_recommend_for_ratings and cf_refresh_users run.
 *
 * An input is a model (algorithm, k, items with factors and biases, mean,
 * regularization, alpha, exponent) and a user's ratings, as the callers
 * pass them: item factors and biases finite (the item cache refuses
 * others), ratings finite (cf_recommend_for_ratings refuses others), the
 * hyperparameters within cf_train's ranges.  Values come either as raw
 * float bits (so from subnormal to near FLT_MAX) or small (a byte scaled
 * to [-4, 4]).  The fold-in must either give a finite bias and vector, or
 * raise 22003 (the system overflows or is singular) or, for an ials model
 * given a negative amount, 22000; any other outcome, or a finite result
 * after an error was due, is a finding.
 *
 * Also links: src/solve.c -lopenblas
 *
 *-------------------------------------------------------------------------
 */
#include "pgstub.h"

#include <math.h>
#include <stdlib.h>

#include "../../src/foldin.c"

#include "blas.h"

#include "fuzzinput.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int			LLVMFuzzerInitialize(int *argc, char ***argv);

#define REQUIRE(cond) do { if (!(cond)) abort(); } while (0)

#define MAX_K 8
#define MAX_ITEMS 12
#define MAX_RATINGS 24

/* Y^T Y of the harness's items, whole (cache.c's, here without the cache). */
static float harness_gram[MAX_K * MAX_K];

const float *
cf_items_gram(CfItems *items)
{
	int			k = items->k;

	for (int a = 0; a < k; a++)
		for (int b = 0; b < k; b++)
		{
			float		s = 0;

			for (int i = 0; i < items->n; i++)
				s += items->Q[(Size) i * k + a] * items->Q[(Size) i * k + b];
			harness_gram[a * k + b] = s;
		}
	return harness_gram;
}

/* A finite value: raw bits (non-finite ones read as 0) or a small one. */
static float
take_value(FuzzInput *in, bool raw)
{
	if (raw)
	{
		float		v = take_float(in);

		return isfinite(v) ? v : 0.0f;
	}
	return ((int) take_u8(in) - 128) / 32.0f;
}

/* A hyperparameter in [0, max]: one of a few typical values, or any. */
static double
take_setting(FuzzInput *in, double max)
{
	static const double typical[] = {0, 1e-6, 0.01, 0.1, 1, 10};
	uint8_t		pick = take_u8(in);
	double		v;

	if (pick < 6 * 32)
		return Min(typical[pick / 32], max);
	v = fabs(take_double(in));
	return isfinite(v) ? fmod(v, max) : max;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	openblas_set_num_threads(1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the five algorithms' fold-ins, as their descriptors (algorithm.c's table) give them */
	static const CfAlgorithm algorithms[] = {
		{.name = "sgd", .predicts_ratings = true, .has_biases = true, .fold = CF_FOLD_EXPLICIT},
		{.name = "als", .predicts_ratings = true, .has_biases = true, .fold = CF_FOLD_EXPLICIT},
		{.name = "ials", .amounts = true, .fold = CF_FOLD_IMPLICIT},
		{.name = "baseline", .predicts_ratings = true, .has_biases = true,
		.fold = CF_FOLD_BASELINE},
		{.name = "popular", .has_biases = true, .fold = CF_FOLD_NONE},
	};
	FuzzInput	in = {data, size};
	uint8_t		flags = take_u8(&in);
	bool		raw = flags & 1;
	CfModelInfo info;
	CfItems		items;
	int64		ids[MAX_ITEMS];
	float		Q[MAX_ITEMS * MAX_K];
	float		ibias[MAX_ITEMS];
	int32		idx[MAX_RATINGS];
	float		r[MAX_RATINGS];
	int32		n;
	float		p[MAX_K];
	volatile float bias = 0;
	volatile bool raised = true;
	volatile bool negative = false;
	sigjmp_buf	env;

	memset(&info, 0, sizeof(info));
	info.alg = &algorithms[(flags >> 1) % 5];
	info.algorithm = (char *) info.alg->name;
	info.predicts_ratings = info.alg->predicts_ratings;
	info.has_biases = info.alg->has_biases;
	info.k = 1 + take_u8(&in) % MAX_K;
	info.mean = take_value(&in, raw);
	info.regularization = take_setting(&in, 1000);
	info.alpha = take_setting(&in, 100000);
	info.regularization_exponent = strcmp(info.algorithm, "sgd") == 0 ? NAN :
		take_setting(&in, 1);

	memset(&items, 0, sizeof(items));
	items.k = info.k;
	items.n = 1 + take_u8(&in) % MAX_ITEMS;
	items.ids = ids;
	items.Q = Q;
	items.bias = ibias;
	items.name = (char *) "fuzz";
	for (int i = 0; i < items.n; i++)
	{
		ids[i] = i + 1;
		ibias[i] = take_value(&in, raw);
		for (int c = 0; c < info.k; c++)
			Q[i * info.k + c] = take_value(&in, raw);
	}

	n = take_u8(&in) % (MAX_RATINGS + 1);
	for (int j = 0; j < n; j++)
	{
		idx[j] = take_u8(&in) % items.n;
		r[j] = take_value(&in, raw);
		negative |= r[j] < 0;
	}

	stub_jump = &env;
	if (sigsetjmp(env, 0) == 0)
	{
		float		b;
		CfFoldKind	kind = fold_check(&info, "fuzz", "fuzz_foldin");

		fold_in(kind, &items, &info, "fuzz", "fuzz_foldin", NULL, idx, r, n, &b, p);
		bias = b;
		raised = false;
	}
	stub_jump = NULL;

	if (raised)
		REQUIRE(stub_errcode == ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE ||
				(stub_errcode == ERRCODE_DATA_EXCEPTION && negative &&
				 strcmp(info.algorithm, "ials") == 0));
	else
	{
		REQUIRE(isfinite(bias));
		for (int c = 0; c < info.k; c++)
			REQUIRE(isfinite(p[c]));
		/* an ials model folds no negative amount in */
		REQUIRE(!(negative && strcmp(info.algorithm, "ials") == 0));
	}
	stub_reset_memory();
	return 0;
}

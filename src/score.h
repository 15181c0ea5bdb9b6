/*-------------------------------------------------------------------------
 *
 * score.h
 *	  Scoring helpers shared by the prediction and recommendation functions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_SCORE_H
#define CF_SCORE_H

/*
 * The indices of the n best scores among nitems, skipping skip[j] (if skip
 * is not NULL), best first with ties by index; returns how many.
 */
extern int32 cf_top_n(const float *scores, const bool *skip, int32 nitems,
					  int32 n, int32 *out);

#endif							/* CF_SCORE_H */

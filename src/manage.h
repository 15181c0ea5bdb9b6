/*-------------------------------------------------------------------------
 *
 * manage.h
 *	  Model management (manage.c): drop, rename, copy, the cascade, and the
 *	  training chart.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CF_MANAGE_H
#define CF_MANAGE_H

#include "nodes/pg_list.h"

/*
 * The lines (char *) of the chart of a training log: epochs epochs of loss
 * and validation RMSE (NaN: none), epoch kept (1-based; 0: none), at most
 * width columns and height rows.
 */
extern List *cf_chart_lines(const char *model, int epochs, const double *loss,
							const double *val, int kept, int width, int height);

#endif							/* CF_MANAGE_H */

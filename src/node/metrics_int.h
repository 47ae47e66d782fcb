/*
 * metrics_int.h - the parts of the node's metrics that live in files of
 * their own (metrics.c renders, metrics_coop.c adds the cooperation
 * families).
 */
#ifndef SCHAKEL_METRICS_INT_H
#define SCHAKEL_METRICS_INT_H

#include "schakel/buf.h"
#include "schakel/error.h"
#include "schakel/store.h"

/*
 * Append the schakel_coop_* families (one sample per partner, label
 * partner) for st's node to b; the text is cached 30 s per database.
 */
sk_err sk_metrics_coop(sk_store *st, sk_buf *b, sk_error *err);

#endif

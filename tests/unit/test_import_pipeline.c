/*
 * test_import_pipeline.c - every import test again with the pipeline on
 * (framing, parsing and validation on a second thread): outcomes, counts,
 * callbacks, batches and rollbacks must not change.
 */
#define IMPORT_PIPELINE true
#include "test_import.c"

/*
 * test_coop.c - the distributions of the cooperation report (coop.h,
 * docs/cooperation.md): median (the mean of the two middle values for an
 * even count), nearest-rank p90, max, and their JSON.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "schakel/coop.h"

static sk_coop_dist of(double *v, size_t n)
{
	sk_coop_dist d;
	sk_coop_dist_of(v, n, &d);
	return d;
}

Test(coop, empty)
{
	sk_coop_dist d = of(NULL, 0);
	json_t *j = sk_coop_dist_json(&d);
	cr_assert_eq(d.n, 0);
	cr_assert(json_is_null(json_object_get(j, "median")));
	cr_assert(json_is_null(json_object_get(j, "p90")));
	cr_assert_eq(json_integer_value(json_object_get(j, "n")), 0);
	json_decref(j);
}

Test(coop, one)
{
	double v[] = {4.5};
	sk_coop_dist d = of(v, 1);
	cr_assert_eq(d.n, 1);
	cr_assert_float_eq(d.median, 4.5, 1e-9);
	cr_assert_float_eq(d.p90, 4.5, 1e-9);
	cr_assert_float_eq(d.max, 4.5, 1e-9);
}

Test(coop, odd_unsorted)
{
	double v[] = {9, 1, 5, 3, 7};
	sk_coop_dist d = of(v, 5);
	cr_assert_float_eq(d.median, 5, 1e-9);
	/* ceil(0.9 * 5) = 5th value */
	cr_assert_float_eq(d.p90, 9, 1e-9);
	cr_assert_float_eq(d.max, 9, 1e-9);
	cr_assert_float_eq(d.min, 1, 1e-9);
}

Test(coop, even_median_is_mean_of_middle)
{
	double v[] = {4, 1, 3, 2};
	sk_coop_dist d = of(v, 4);
	cr_assert_float_eq(d.median, 2.5, 1e-9);
	cr_assert_float_eq(d.p90, 4, 1e-9); /* ceil(3.6) = 4th */
}

Test(coop, p90_nearest_rank)
{
	double v[20];
	for (int i = 0; i < 20; i++)
		v[i] = 20 - i; /* 1..20, reversed */
	sk_coop_dist d = of(v, 20);
	cr_assert_float_eq(d.p90, 18, 1e-9); /* ceil(18) = 18th */
	cr_assert_float_eq(d.median, 10.5, 1e-9);
	double w[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 100};
	d = of(w, 10);
	cr_assert_float_eq(d.p90, 9, 1e-9); /* ceil(9) = 9th: the outlier is only the max */
	cr_assert_float_eq(d.max, 100, 1e-9);
	double u[11] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
	d = of(u, 11);
	cr_assert_float_eq(d.p90, 10, 1e-9); /* ceil(9.9) = 10th */
}

Test(coop, negative_durations_stay)
{
	/* a skewed clock: arrival before creation */
	double v[] = {-2, 1, 3};
	sk_coop_dist d = of(v, 3);
	cr_assert_float_eq(d.median, 1, 1e-9);
	cr_assert_float_eq(d.min, -2, 1e-9);
}

Test(coop, json_rounds_to_milliseconds)
{
	double v[] = {1.23456, 2.00049};
	sk_coop_dist d = of(v, 2);
	json_t *j = sk_coop_dist_json(&d);
	cr_assert_float_eq(json_real_value(json_object_get(j, "max")), 2.0, 1e-9);
	cr_assert_float_eq(json_real_value(json_object_get(j, "median")), 1.618, 1e-9);
	json_decref(j);
}

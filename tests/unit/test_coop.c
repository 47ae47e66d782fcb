/*
 * test_coop.c - the distributions of the cooperation report (coop.h,
 * docs/cooperation.md): median (the mean of the two middle values for an
 * even count), nearest-rank p90, max, and their JSON.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

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

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

Test(coop, selection_matches_sorting)
{
	static double v[2001], w[2001];
	unsigned seed = 14;
	for (size_t n = 1; n <= 2001; n += (n < 40 ? 1 : 97)) {
		for (int dup = 0; dup < 2; dup++) {
			for (size_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				v[i] = dup ? (double)(seed >> 16 & 7)
				           : (double)(seed >> 8) / 3.0 - 1e6;
				w[i] = v[i];
			}
			qsort(w, n, sizeof(*w), cmp);
			sk_coop_dist d = of(v, n);
			double med = n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
			cr_assert_float_eq(d.median, med, 1e-9, "n %zu dup %d", n, dup);
			cr_assert_float_eq(d.p90, w[(n * 9 + 9) / 10 - 1], 1e-9, "n %zu dup %d", n,
			                   dup);
			cr_assert_float_eq(d.max, w[n - 1], 1e-9);
			cr_assert_float_eq(d.min, w[0], 1e-9);
		}
	}
}

/*
 * NAME
 *	replay - run a fuzz harness over saved inputs, as a TAP test
 * SYNOPSIS
 *	fuzz_NAME [FILE | DIRECTORY]...
 * DESCRIPTION
 *	The main() of every fuzz harness when it is not built with
 *	libFuzzer (configure without --enable-fuzz): it calls the
 *	harness's LLVMFuzzerInitialize(), if it has one, then
 *	LLVMFuzzerTestOneInput() on each file given, and on each file of
 *	each directory given (not below it), in name order.  It prints a
 *	TAP plan, then "ok N - FILE" after each input has passed.
 *
 *	Without arguments it reads the harness's seed corpus,
 *	tests/fuzz/corpus/NAME, and its regression inputs,
 *	tests/fuzz/regress/NAME, below $VIGIL_SRCDIR (make check sets it;
 *	else the current directory).  A missing regression directory is
 *	no input; a missing or empty corpus is an error.
 *
 *	An input that makes the harness crash or break an invariant ends
 *	the run there: the TAP driver then sees fewer results than the
 *	plan and the test fails, with the sanitizer's or the harness's
 *	report in its log, after "# FILE" naming the input.
 * DIAGNOSTICS
 *	Exit status 0 when every input ran, 1 when a file cannot be read
 *	or no input was found ("Bail out!" says why).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error FUZZ_NAME must name the harness
#endif

/* the harness may or may not have one */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* sort_paths - g_ptr_array_sort() passes pointers to the elements */
static int
sort_paths(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* add_path - a file, or the files of a directory in name order; FALSE if unreadable */
static gboolean
add_path(GPtrArray *files, const char *path, gboolean need)
{
	GDir *d;
	GPtrArray *names;
	const char *name;
	guint i;

	if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
		if (!need && !g_file_test(path, G_FILE_TEST_EXISTS))
			return TRUE;
		g_ptr_array_add(files, g_strdup(path));
		return TRUE;
	}
	if ((d = g_dir_open(path, 0, NULL)) == NULL) {
		printf("Bail out! cannot read directory %s\n", path);
		return FALSE;
	}
	names = g_ptr_array_new_with_free_func(g_free);
	while ((name = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(path, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(names, p);
		else
			g_free(p);
	}
	g_dir_close(d);
	g_ptr_array_sort(names, sort_paths);
	for (i = 0; i < names->len; i++)
		g_ptr_array_add(files, g_strdup(g_ptr_array_index(names, i)));
	g_ptr_array_free(names, TRUE);
	return TRUE;
}

/* run_one - the harness on a copy of exactly len bytes, so that ASan sees a read past them */
static void
run_one(const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL)
		abort();
	memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

/* shown - the name of an input in the TAP output: below tests/fuzz/ when it is there */
static const char *
shown(const char *path)
{
	const char *p = strstr(path, "tests/fuzz/");

	return p ? p + strlen("tests/fuzz/") : path;
}

/* main - replay the inputs given, or the harness's corpus and regression inputs */
int
main(int argc, char **argv)
{
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	const char *src = getenv("VIGIL_SRCDIR");
	gboolean ok = TRUE;
	guint i;
	int k;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (k = 1; ok && k < argc; k++)
			ok = add_path(files, argv[k], TRUE);
	} else {
		char *corpus = g_build_filename(src ? src : ".", "tests", "fuzz", "corpus", FUZZ_NAME, NULL);
		char *regress = g_build_filename(src ? src : ".", "tests", "fuzz", "regress", FUZZ_NAME, NULL);

		ok = add_path(files, corpus, TRUE);
		if (ok && files->len == 0) {
			printf("Bail out! no seed inputs in %s\n", corpus);
			ok = FALSE;
		}
		if (ok && g_file_test(regress, G_FILE_TEST_IS_DIR))
			ok = add_path(files, regress, FALSE);
		g_free(corpus);
		g_free(regress);
	}
	if (!ok) {
		g_ptr_array_free(files, TRUE);
		return 1;
	}
	printf("1..%u\n", files->len);
	fflush(stdout);
	for (i = 0; i < files->len; i++) {
		const char *path = g_ptr_array_index(files, i);
		gchar *data;
		gsize len;
		GError *err = NULL;

		if (!g_file_get_contents(path, &data, &len, &err)) {
			printf("Bail out! %s\n", err->message);
			g_error_free(err);
			g_ptr_array_free(files, TRUE);
			return 1;
		}
		printf("# %s\n", shown(path));
		fflush(stdout);
		run_one((const uint8_t *) data, len);
		g_free(data);
		printf("ok %u - %s\n", i + 1, shown(path));
		fflush(stdout);
	}
	g_ptr_array_free(files, TRUE);
	return 0;
}

/*
 * NAME
 *	ar-milter - a stand-in DKIM verifier for the end-to-end tests
 * SYNOPSIS
 *	ar-milter SOCKET AUTHSERV-ID SENDER=RESULTS...
 * DESCRIPTION
 *	Plays OpenDKIM's part in front of vigil: for a message whose
 *	envelope sender is one of the SENDERs (ASCII case ignored) it
 *	inserts the field
 *
 *	    Authentication-Results: AUTHSERV-ID; RESULTS
 *
 *	at index 1, as OpenDKIM does (Postfix puts it right below its own
 *	Received: line); other messages pass unchanged.  It verifies
 *	nothing: the test says whose mail passes.  SOCKET is a libmilter
 *	socket (unix:PATH); a file left there is replaced.  It runs until
 *	SIGTERM.
 * DIAGNOSTICS
 *	Exit status 64 on a usage error, 1 when the socket cannot be set
 *	up, else libmilter's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <libmilter/mfapi.h>

static const char *authserv_id;
static char **rules;		/* SENDER=RESULTS */
static int nrules;

/* strip - a copy of an envelope address without its angle brackets */
static char *
strip(const char *a)
{
	size_t n = strlen(a);

	if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
		return strndup(a + 1, n - 2);
	return strdup(a);
}

/* results_for - the RESULTS of the rule for sender, or NULL */
static const char *
results_for(const char *sender)
{
	int i;

	for (i = 0; sender && i < nrules; i++) {
		const char *eq = strchr(rules[i], '=');

		if ((size_t) (eq - rules[i]) == strlen(sender) && strncasecmp(rules[i], sender, strlen(sender)) == 0)
			return eq + 1;
	}
	return NULL;
}

static sfsistat
x_envfrom(SMFICTX *ctx, char **argv)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, argv[0] ? strip(argv[0]) : NULL);
	return SMFIS_CONTINUE;
}

static sfsistat
x_eom(SMFICTX *ctx)
{
	const char *results = results_for(smfi_getpriv(ctx));
	size_t size;
	char *value;
	sfsistat rc = SMFIS_CONTINUE;

	if (results == NULL)
		return SMFIS_CONTINUE;
	size = strlen(authserv_id) + strlen(results) + 3;
	if ((value = malloc(size)) == NULL
	    || (size_t) snprintf(value, size, "%s; %s", authserv_id, results) >= size) {
		free(value);
		return SMFIS_TEMPFAIL;
	}
	if (smfi_insheader(ctx, 1, "Authentication-Results", value) != MI_SUCCESS)
		rc = SMFIS_TEMPFAIL;
	free(value);
	return rc;
}

static sfsistat
x_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "ar-milter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS,
		.xxfi_envfrom = x_envfrom,
		.xxfi_eom = x_eom,
		.xxfi_close = x_close,
	};
	int i;

	if (argc < 3) {
		fputs("usage: ar-milter SOCKET AUTHSERV-ID SENDER=RESULTS...\n", stderr);
		return EX_USAGE;
	}
	for (i = 3; i < argc; i++)
		if (strchr(argv[i], '=') == NULL) {
			fprintf(stderr, "ar-milter: %s: want SENDER=RESULTS\n", argv[i]);
			return EX_USAGE;
		}
	authserv_id = argv[2];
	rules = argv + 3;
	nrules = argc - 3;
	if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS
	    || smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "ar-milter: cannot listen on %s\n", argv[1]);
		return 1;
	}
	return smfi_main();
}

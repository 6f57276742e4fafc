/*
 * NAME
 *	send - one SMTP transaction with libcurl
 * SYNOPSIS
 *	#include "send.h"
 *
 *	void send_init(void);
 *	struct send_session *send_session_new(void);
 *	void send_session_close(struct send_session *s);
 *	bool send_session_open(const struct send_session *s);
 *	enum send_rc send_smtp(session, relay, sender, rcpts, body, &res);
 *	struct send_body send_body_bytes(GBytes *data);
 *	void send_result_clear(struct send_result *res);
 *	void send_session_free(struct send_session *s);
 * DESCRIPTION
 *	send_smtp() hands one message to the relay (an smtp:// or smtps://
 *	URL) in one transaction: MAIL FROM sender ("" is <>), one RCPT TO
 *	per recipient, DATA.  The body is read a piece at a time from its
 *	reader (send_body_bytes() reads one from memory), so a message kept
 *	in the database is never copied whole.  It must already be CRLF
 *	(compose_crlf()): libcurl dot-stuffs correctly only after CRLF, and
 *	bare LF plus a lone "." line silently truncates the message at
 *	Postfix.
 *
 *	A session keeps its connection to the relay from one transaction to
 *	the next (a sender that sends many messages does not connect, greet
 *	and quit for each); it connects anew after a failure, and once more
 *	at once when a kept connection turns out to have been closed by the
 *	relay before anything was said.  session NULL: a connection for
 *	this transaction alone.  A session serves one thread at a time.
 *	send_session_close() hangs up (an idle connection holds one of the
 *	relay's smtpd processes); the next transaction connects anew.
 *	send_session_open() says whether it may still hold a connection.
 *
 *	libcurl reports one result for the whole transaction, so the
 *	replies to each RCPT are read from its debug stream (curl does not
 *	pipeline SMTP: every RCPT is answered before the next is sent).
 *	A recipient the relay refused with 4xx (452: too many recipients)
 *	is put in res->deferred, with 5xx in res->failed; the rest were
 *	accepted once the transaction completes.  res->reply is then the
 *	relay's answer to the message ("250 2.0.0 Ok: queued as ..."), for
 *	the log: it names the message in the relay's own log.
 *
 *	send_init() initialises libcurl once per process, before threads.
 *	send_result_clear() frees what res holds.
 */
#include "send.h"

#include <stdbool.h>
#include <string.h>
#include <curl/curl.h>

struct upload {
	const struct send_body *body;
	gint64	off;
};

/* one connection to the relay, kept from one transaction to the next */
struct send_session {
	CURL	*h;
	bool	 fresh;		/* the last transaction failed: connect anew */
};

struct dialog {
	const GPtrArray *rcpts;
	guint	asked;		/* RCPT commands seen */
	guint	answered;	/* their replies */
	int	*codes;		/* reply code per recipient, 0 unknown */
	bool	in_rcpt;
	char	reply[256];	/* the last reply line, for the log */
};

/* send_init - once per process */
void
send_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* send_session_new - a session with no connection yet */
struct send_session *
send_session_new(void)
{
	return g_new0(struct send_session, 1);
}

/* send_session_close - close the connection (QUIT), if any; the session stays */
void
send_session_close(struct send_session *s)
{
	if (s->h)
		curl_easy_cleanup(s->h);
	s->h = NULL;
	s->fresh = false;
}

/* send_session_open - whether the session may hold a connection */
bool
send_session_open(const struct send_session *s)
{
	return s->h != NULL;
}

/* send_session_free - close the connection (QUIT); NULL does nothing */
void
send_session_free(struct send_session *s)
{
	if (s == NULL)
		return;
	send_session_close(s);
	g_free(s);
}

/* read_cb - feed the message to libcurl, a piece at a time */
static size_t
read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct upload *up = ud;
	size_t n = (size_t) MIN((gint64) (size * nitems), up->body->size - up->off);

	if (n > 0 && !up->body->read(up->body->ud, buf, n, up->off))
		return CURL_READFUNC_ABORT;
	up->off += (gint64) n;
	return n;
}

/* read_bytes - a send_body reader over GBytes */
static gboolean
read_bytes(gpointer ud, void *buf, size_t n, gint64 off)
{
	memcpy(buf, (const guint8 *) g_bytes_get_data(ud, NULL) + off, n);
	return TRUE;
}

/* send_body_bytes - a send_body over bytes in memory, borrowed */
struct send_body
send_body_bytes(GBytes *data)
{
	struct send_body b = { (gint64) g_bytes_get_size(data), read_bytes, data };

	return b;
}

/* debug_cb - pair each RCPT TO with the final line of its reply; keep the last reply */
static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
	struct dialog *d = ud;

	if (type == CURLINFO_HEADER_IN && size >= 4 && data[3] == ' ') {
		size_t n = MIN(size, sizeof d->reply - 1);

		while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
			n--;
		memcpy(d->reply, data, n);
		d->reply[n] = '\0';
	}
	if (type == CURLINFO_HEADER_OUT) {
		d->in_rcpt = size > 8 && g_ascii_strncasecmp(data, "RCPT TO:", 8) == 0;
		if (d->in_rcpt)
			d->asked++;
	} else if (type == CURLINFO_HEADER_IN && d->in_rcpt && size >= 4 && data[3] == ' '
		   && g_ascii_isdigit(data[0]) && d->answered < d->asked
		   && d->answered < d->rcpts->len) {
		d->codes[d->answered++] = (data[0] - '0') * 100 + (data[1] - '0') * 10 + (data[2] - '0');
		d->in_rcpt = false;
	}
	return 0;
}

/* helo_url - the relay URL with our host name as the EHLO argument */
static char *
helo_url(const char *relay)
{
	const char *host = strstr(relay, "://");

	host = host ? host + 3 : relay;
	if (strchr(host, '/') != NULL)
		return g_strdup(relay);
	return g_strdup_printf("%s/%s", relay, g_get_host_name());
}

/* setup - the options of one transaction */
static void
setup(CURL *h, const char *url, const char *from, struct curl_slist *list, struct upload *up,
      struct dialog *d, char *errbuf, bool fresh)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, list);
#if LIBCURL_VERSION_NUM >= 0x080200
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, up);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) up->body->size);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 900L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* an idle connection is not reused after this long: Postfix's smtpd
	 * drops idle clients after 10 s when it is busy (smtpd_timeout) */
	curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, 5L);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, d);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);	/* the debug stream needs it */
}

/*
 * send_smtp - one transaction; on the session's connection when s is
 * not NULL (a new one the first time, or after a failure), else on a
 * connection of its own
 */
enum send_rc
send_smtp(struct send_session *s, const char *relay, const char *sender, const GPtrArray *rcpts,
	  const struct send_body *body, struct send_result *res)
{
	CURL *h = s ? s->h : NULL;
	struct curl_slist *list = NULL;
	struct upload up = { body, 0 };
	struct dialog d = { 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url = helo_url(relay);
	char *from = g_strdup_printf("<%s>", sender ? sender : "");
	bool fresh = s == NULL || s->fresh;
	enum send_rc rc;
	CURLcode cc;
	long code = 0, connects = 0;
	guint i;

	memset(res, 0, sizeof *res);
	res->accepted = g_ptr_array_new_with_free_func(g_free);
	res->deferred = g_ptr_array_new_with_free_func(g_free);
	res->failed = g_ptr_array_new_with_free_func(g_free);
	if (h == NULL && (h = curl_easy_init()) != NULL && s)
		s->h = h;
	if (h == NULL) {
		res->error = g_strdup("cannot initialise libcurl");
		g_free(url);
		g_free(from);
		return SEND_RETRY;
	}
	for (i = 0; i < rcpts->len; i++) {
		char *r = g_strdup_printf("<%s>", (char *) g_ptr_array_index(rcpts, i));

		list = curl_slist_append(list, r);
		g_free(r);
	}
	d.rcpts = rcpts;
	d.codes = g_new0(int, rcpts->len + 1);
	curl_easy_reset(h);		/* options only: the connection stays */
	setup(h, url, from, list, &up, &d, errbuf, fresh);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
	if (cc != CURLE_OK && connects == 0 && d.asked == 0 && up.off == 0) {
		/* the kept connection had gone stale: once more on a new one */
		*errbuf = '\0';
		curl_easy_reset(h);
		setup(h, url, from, list, &up, &d, errbuf, true);
		cc = curl_easy_perform(h);
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (cc == CURLE_OK || (d.answered == rcpts->len && d.answered > 0)) {
		/* complete, or every recipient refused one by one */
		for (i = 0; i < rcpts->len; i++) {
			char *r = g_strdup(g_ptr_array_index(rcpts, i));
			int c = i < d.answered ? d.codes[i] : 250;

			if (cc != CURLE_OK && c < 400)
				c = 450;	/* cannot be: curl failed after RCPT */
			g_ptr_array_add(c >= 500 ? res->failed : c >= 400 ? res->deferred
					: res->accepted, r);
		}
		if (cc != CURLE_OK)
			res->error = g_strdup_printf("all recipients refused: %s",
						     *errbuf ? errbuf : curl_easy_strerror(cc));
		else
			res->reply = g_strdup(d.reply);
		rc = SEND_DONE;
	} else {
		res->error = g_strdup_printf("%s (%s)", *errbuf ? errbuf : curl_easy_strerror(cc), relay);
		rc = code >= 500 ? SEND_REFUSED : SEND_RETRY;
	}
	if (s)
		s->fresh = cc != CURLE_OK;
	else
		curl_easy_cleanup(h);
	curl_slist_free_all(list);
	g_free(d.codes);
	g_free(url);
	g_free(from);
	return rc;
}

/* send_result_clear - free what a result holds */
void
send_result_clear(struct send_result *res)
{
	if (res->accepted)
		g_ptr_array_free(res->accepted, TRUE);
	if (res->deferred)
		g_ptr_array_free(res->deferred, TRUE);
	if (res->failed)
		g_ptr_array_free(res->failed, TRUE);
	g_free(res->error);
	g_free(res->reply);
	memset(res, 0, sizeof *res);
}

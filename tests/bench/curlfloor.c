/* curlfloor URL BODYFILE N J: N POSTs of one body to URL, J at a time,
 * with libcurl's multi_socket interface and epoll, answers discarded.
 * What any libcurl client spends on the requests alone (libcurl, the
 * loopback TCP, the wake-ups): generate.sh prints it beside bg-generate,
 * whose CPU beyond it is its own work (reading jobs, request keys,
 * parsing answers, storing, records). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <curl/curl.h>

static int ep, started, done, n, j;
static CURLM *multi;
static struct curl_slist *hdrs;
static const char *url;
static char *body;
static long blen;

static size_t
discard(char *p, size_t size, size_t nmemb, void *u)
{
	(void)p;
	(void)u;
	return size * nmemb;
}

static int
on_socket(CURL *e, curl_socket_t s, int what, void *u, void *known)
{
	struct epoll_event ev = { .data.fd = s };

	(void)e;
	(void)u;
	if (what == CURL_POLL_REMOVE)
		return epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL), 0;
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
	    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (!known) {
		curl_multi_assign(multi, s, &ep);
		epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	} else {
		epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev);
	}
	return 0;
}

static void
start(void)
{
	CURL *e = curl_easy_init();

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, blen);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_multi_add_handle(multi, e);
	started++;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[64];
	CURLMsg *m;
	FILE *f;
	long t;
	int i, k, left, running;

	if (argc != 5 || !(f = fopen(argv[2], "rb")))
		return fprintf(stderr, "usage: curlfloor URL BODYFILE N J\n"), 2;
	url = argv[1];
	n = atoi(argv[3]);
	j = atoi(argv[4]);
	fseek(f, 0, SEEK_END);
	blen = ftell(f);
	rewind(f);
	if (!(body = malloc(blen + 1)) || fread(body, 1, blen, f) != (size_t)blen)
		return fprintf(stderr, "curlfloor: %s: cannot read\n", argv[2]), 2;
	fclose(f);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ep = epoll_create1(0);
	multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (getenv("GEMINI_API_KEY")) {
		static char h[256];

		snprintf(h, sizeof h, "x-goog-api-key: %s", getenv("GEMINI_API_KEY"));
		hdrs = curl_slist_append(hdrs, h);
	}
	while (started < n && started < j)
		start();
	while (done < n) {
		curl_multi_timeout(multi, &t);
		k = epoll_wait(ep, evs, 64, (int)t);
		if (k <= 0)
			curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0,
			    &running);
		for (i = 0; i < k; i++)
			curl_multi_socket_action(multi, evs[i].data.fd,
			    (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			    (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0),
			    &running);
		while ((m = curl_multi_info_read(multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			if (m->data.result != CURLE_OK)
				fprintf(stderr, "curlfloor: %s\n",
				    curl_easy_strerror(m->data.result));
			curl_multi_remove_handle(multi, m->easy_handle);
			curl_easy_cleanup(m->easy_handle);
			done++;
			if (started < n)
				start();
		}
	}
	return 0;
}

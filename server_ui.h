/* server_ui.h - the web dashboard, embedded in the binary (server_ui.c). */
#ifndef NESTD_SERVER_UI_H
#define NESTD_SERVER_UI_H

#include "http.h"

struct conn;

/* /, /index.html, /app.js, /style.css, /favicon.ico: 1 if it answered. */
int server_ui_route(struct conn *c, const struct http_req *req, const struct http_span *path);

#endif

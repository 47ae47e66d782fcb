/*
 * jstream.c - a pull framer that cuts a JSON stream into elements.
 *
 * The framer only understands as much JSON as it needs to find element
 * boundaries: strings (with escapes), brackets, and the few tokens of the
 * containers around the elements.  Whitespace outside strings is dropped, so
 * elements come out minified, which makes both parsing and storage cheaper.
 */
#include "schakel/jstream.h"

#include <stdlib.h>
#include <string.h>

#include "schakel/buf.h"
#include "scan.h"

#define WINDOW (1u << 20)

enum state {
	ST_TOP,          /* between top-level values */
	ST_ARRAY_FIRST,  /* just after a top-level '[' */
	ST_ARRAY_NEXT,   /* after an element of a top-level array */
	ST_OBJ_FIRST,    /* just after a top-level '{' */
	ST_OBJ_NEXT,     /* after a member of a top-level object */
	ST_OBJECTS_FIRST,/* just after the '[' of an "objects" member */
	ST_OBJECTS_NEXT, /* after an element of "objects" */
	ST_DONE,
	ST_FAILED,
};

struct sk_jstream {
	sk_reader *rd;
	unsigned char *win;
	size_t pos, len;
	uint64_t base; /* stream offset of win[0] */
	uint64_t line;
	bool eof;
	enum state st;
	size_t max_element;
	int max_depth;
	uint64_t values, index;
	bool saw_objects;  /* current top-level object had an "objects" array */
	uint64_t top_line, top_offset;
	sk_buf elem; /* current element */
	sk_buf top;  /* members of the current top-level object, minus "objects" */
};

sk_err sk_jstream_new(sk_reader *rd, const sk_jstream_opts *opts, sk_jstream **out)
{
	sk_jstream *js = calloc(1, sizeof(*js));

	*out = NULL;
	if (!js)
		return SK_ENOMEM;
	js->win = malloc(WINDOW);
	if (!js->win) {
		free(js);
		return SK_ENOMEM;
	}
	js->rd = rd;
	js->line = 1;
	js->max_element = opts && opts->max_element ? opts->max_element : ((size_t)64 << 20);
	js->max_depth = opts && opts->max_depth ? opts->max_depth : 64;
	sk_buf_init(&js->elem, js->max_element);
	sk_buf_init(&js->top, js->max_element);
	*out = js;
	return SK_OK;
}

void sk_jstream_free(sk_jstream *js)
{
	if (!js)
		return;
	sk_buf_free(&js->elem);
	sk_buf_free(&js->top);
	free(js->win);
	free(js);
}

uint64_t sk_jstream_values(const sk_jstream *js)
{
	return js->values;
}

uint64_t sk_jstream_offset(const sk_jstream *js)
{
	return js->base + js->pos;
}

static sk_err fill(sk_jstream *js, sk_error *err)
{
	size_t got = 0;
	sk_err rc;

	if (js->eof)
		return SK_OK;
	js->base += js->len;
	js->pos = js->len = 0;
	rc = sk_reader_read(js->rd, js->win, WINDOW, &got, err);
	if (rc)
		return rc;
	if (got == 0)
		js->eof = true;
	js->len = got;
	return SK_OK;
}

static sk_err fail(sk_jstream *js, sk_error *err, sk_err code, const char *what)
{
	js->st = ST_FAILED;
	return sk_error_set(err, code, "line %llu, offset %llu: %s", (unsigned long long)js->line,
			    (unsigned long long)(js->base + js->pos), what);
}

/* Next non-whitespace byte without consuming it; -1 at end of input. */
static sk_err peek(sk_jstream *js, int *c, sk_error *err)
{
	for (;;) {
		while (js->pos < js->len) {
			unsigned char b = js->win[js->pos];
			if (b == '\n')
				js->line++;
			else if (b != ' ' && b != '\t' && b != '\r')
				goto found;
			js->pos++;
		}
		if (js->eof) {
			*c = -1;
			return SK_OK;
		}
		sk_err rc = fill(js, err);
		if (rc) {
			js->st = ST_FAILED;
			return rc;
		}
	}
found:
	*c = js->win[js->pos];
	return SK_OK;
}

/* Byte classes for the copy loop. */
enum { C_PLAIN = 0, C_WS, C_NL, C_QUOTE, C_OPEN, C_CLOSE, C_DELIM };
/* A constant table: no first-use initialisation to race on between threads. */
static const unsigned char cls[256] = {
    [' '] = C_WS,     ['\t'] = C_WS,    ['\r'] = C_WS,    ['\n'] = C_NL,
    ['"'] = C_QUOTE,  ['{'] = C_OPEN,   ['['] = C_OPEN,   ['}'] = C_CLOSE,
    [']'] = C_CLOSE,  [','] = C_DELIM,  [':'] = C_DELIM,
};

/*
 * Copy one complete JSON value, minified, from the stream into out.  The value
 * must start at the current position (after peek).  Scalars end at the next
 * delimiter, which is left in the stream.  base is the nesting depth the
 * value sits at within its element (1 for a member of a lone top-level
 * object, whose own brace counts), so the depth limit covers the element.
 */
static sk_err capture(sk_jstream *js, sk_buf *out, int base, sk_error *err)
{
	unsigned char stack[256 / 8 + 1]; /* bit set = '[' at that depth */
	int depth = 0;
	bool in_str = false, esc = false, scalar = false;
	const unsigned char *p = NULL, *end;
	char *o = NULL;
	sk_err rc;

	memset(stack, 0, sizeof(stack));
	sk_buf_reset(out);
	for (;;) {
		if (js->pos == js->len) {
			if (js->eof)
				break;
			if ((rc = fill(js, err)))
				return rc;
			if (js->len == 0)
				break;
		}
		/* Room for this whole window: minified output is never longer. */
		size_t avail = js->len - js->pos;
		if ((rc = sk_buf_reserve(out, avail))) {
			size_t room = out->cap - out->len;
			if (room == 0 || (rc = sk_buf_reserve(out, room)))
				return fail(js, err, SK_ELIMIT,
					    rc == SK_ENOMEM ? "out of memory"
							    : "element larger than the size limit");
			avail = room;
		}
		p = js->win + js->pos;
		end = p + avail;
		o = out->data + out->len;

		while (p < end) {
			if (in_str) {
				if (esc) {
					*o++ = (char)*p++;
					esc = false;
					continue;
				}
				const unsigned char *q = sk_scan_string(p, end, 0);
				memcpy(o, p, (size_t)(q - p));
				o += q - p;
				p = q;
				if (p == end)
					break;
				if (*p == '"') {
					*o++ = '"';
					p++;
					in_str = false;
					if (depth == 0)
						goto done;
				} else if (*p == '\\') {
					*o++ = '\\';
					p++;
					esc = true;
				} else {
					js->pos = (size_t)(p - js->win);
					out->len = (size_t)(o - out->data);
					return fail(js, err, SK_EJSON,
						    "control character inside a string");
				}
				continue;
			}
			unsigned char c = *p;
			switch (cls[c]) {
			case C_NL:
				js->line++;
				p++;
				/* indentation usually follows a newline */
				p = sk_scan_spaces(p, end);
				if (scalar && depth == 0)
					goto done;
				break;
			case C_WS:
				p++;
				if (scalar && depth == 0)
					goto done;
				break;
			case C_QUOTE:
				if (scalar && depth == 0)
					goto done;
				in_str = true;
				*o++ = '"';
				p++;
				break;
			case C_OPEN:
				if (scalar && depth == 0)
					goto done;
				if (depth + base >= js->max_depth || depth >= 255) {
					js->pos = (size_t)(p - js->win);
					out->len = (size_t)(o - out->data);
					return fail(js, err, SK_ELIMIT, "nesting deeper than the limit");
				}
				if (c == '[')
					stack[depth >> 3] |= (unsigned char)(1u << (depth & 7));
				else
					stack[depth >> 3] &= (unsigned char)~(1u << (depth & 7));
				depth++;
				*o++ = (char)c;
				p++;
				break;
			case C_CLOSE:
				if (depth == 0) {
					if (scalar)
						goto done;
					js->pos = (size_t)(p - js->win);
					out->len = (size_t)(o - out->data);
					return fail(js, err, SK_EJSON, "unexpected closing bracket");
				}
				depth--;
				if (((stack[depth >> 3] >> (depth & 7)) & 1) != (c == ']')) {
					js->pos = (size_t)(p - js->win);
					out->len = (size_t)(o - out->data);
					return fail(js, err, SK_EJSON, "mismatched bracket");
				}
				*o++ = (char)c;
				p++;
				if (depth == 0)
					goto done;
				break;
			case C_DELIM:
				if (depth == 0) {
					if (scalar)
						goto done;
					js->pos = (size_t)(p - js->win);
					out->len = (size_t)(o - out->data);
					return fail(js, err, SK_EJSON, "expected a value");
				}
				*o++ = (char)c;
				p++;
				break;
			default:
				if (depth == 0)
					scalar = true;
				*o++ = (char)c;
				p++;
				break;
			}
		}
		js->pos = (size_t)(p - js->win);
		out->len = (size_t)(o - out->data);
		out->data[out->len] = '\0';
	}
	/* end of input */
	if (scalar && depth == 0 && !in_str)
		return SK_OK;
	return fail(js, err, SK_EJSON,
		    in_str ? "unexpected end of input inside a string"
			   : "unexpected end of input (truncated JSON?)");
done:
	js->pos = (size_t)(p - js->win);
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return SK_OK;
}

/* Consume the byte just peeked. */
static void take(sk_jstream *js)
{
	js->pos++;
}

/* Read a top-level object key into js->elem (as a JSON string literal). */
static sk_err read_key(sk_jstream *js, sk_error *err)
{
	sk_err rc = capture(js, &js->elem, 0, err);
	if (rc)
		return rc;
	if (js->elem.len < 2 || js->elem.data[0] != '"')
		return fail(js, err, SK_EJSON, "expected a member name");
	return SK_OK;
}

static void set_item(sk_jstream *js, sk_jitem *it, sk_buf *b, uint64_t line, uint64_t off,
		     sk_jcontainer kind)
{
	it->json = b->data;
	it->len = b->len;
	it->line = line;
	it->offset = off;
	it->kind = kind;
	it->index = js->index++;
}

sk_err sk_jstream_next(sk_jstream *js, sk_jitem *it, bool *have, sk_error *err)
{
	sk_err rc;
	int c;

	*have = false;
	for (;;) {
		if (js->st == ST_DONE)
			return SK_OK;
		if (js->st == ST_FAILED)
			return sk_error_set(err, SK_EJSON, "stream already failed");
		if ((rc = peek(js, &c, err)))
			return rc;
		uint64_t line = js->line, off = js->base + js->pos;

		switch (js->st) {
		case ST_TOP:
			if (c == -1) {
				js->st = ST_DONE;
				return SK_OK;
			}
			js->values++;
			js->index = 0;
			if (c == '[') {
				take(js);
				js->st = ST_ARRAY_FIRST;
			} else if (c == '{') {
				take(js);
				js->saw_objects = false;
				js->top_line = line;
				js->top_offset = off;
				sk_buf_reset(&js->top);
				if ((rc = sk_buf_putc(&js->top, '{')))
					return fail(js, err, rc, "out of memory");
				js->st = ST_OBJ_FIRST;
			} else {
				return fail(js, err, SK_EJSON,
					    js->values == 1 ? "not JSON: expected '{' or '['"
							    : "expected '{' or '[' to start the next value");
			}
			break;

		case ST_ARRAY_FIRST:
		case ST_ARRAY_NEXT:
		case ST_OBJECTS_FIRST:
		case ST_OBJECTS_NEXT: {
			bool objects = js->st == ST_OBJECTS_FIRST || js->st == ST_OBJECTS_NEXT;
			bool first = js->st == ST_ARRAY_FIRST || js->st == ST_OBJECTS_FIRST;
			if (c == ']') {
				take(js);
				js->st = objects ? ST_OBJ_NEXT : ST_TOP;
				break;
			}
			if (c == -1)
				return fail(js, err, SK_EJSON,
					    "unexpected end of input inside an array (truncated JSON?)");
			if (!first) {
				if (c != ',')
					return fail(js, err, SK_EJSON, "expected ',' or ']'");
				take(js);
				if ((rc = peek(js, &c, err)))
					return rc;
				line = js->line;
				off = js->base + js->pos;
				if (c == -1)
					return fail(js, err, SK_EJSON, "unexpected end of input");
			}
			if ((rc = capture(js, &js->elem, 0, err)))
				return rc;
			js->st = objects ? ST_OBJECTS_NEXT : ST_ARRAY_NEXT;
			set_item(js, it, &js->elem, line, off, objects ? SK_JC_BUNDLE : SK_JC_ARRAY);
			*have = true;
			return SK_OK;
		}

		case ST_OBJ_FIRST:
		case ST_OBJ_NEXT:
			if (c == '}') {
				take(js);
				js->st = ST_TOP;
				if (js->saw_objects)
					break; /* container done; its other members are metadata */
				if ((rc = sk_buf_putc(&js->top, '}')))
					return fail(js, err, SK_ELIMIT, "element larger than the size limit");
				set_item(js, it, &js->top, js->top_line, js->top_offset, SK_JC_SINGLE);
				*have = true;
				return SK_OK;
			}
			if (c == -1)
				return fail(js, err, SK_EJSON,
					    "unexpected end of input inside an object (truncated JSON?)");
			if (js->st == ST_OBJ_NEXT) {
				if (c != ',')
					return fail(js, err, SK_EJSON, "expected ',' or '}'");
				take(js);
				if ((rc = peek(js, &c, err)))
					return rc;
			}
			if (c != '"')
				return fail(js, err, SK_EJSON, "expected a member name");
			if ((rc = read_key(js, err)))
				return rc;
			if ((rc = peek(js, &c, err)))
				return rc;
			if (c != ':')
				return fail(js, err, SK_EJSON, "expected ':' after a member name");
			take(js);
			if ((rc = peek(js, &c, err)))
				return rc;
			if (c == -1)
				return fail(js, err, SK_EJSON, "unexpected end of input");
			if (c == '[' && strcmp(js->elem.data, "\"objects\"") == 0 && !js->saw_objects) {
				take(js);
				js->saw_objects = true;
				js->st = ST_OBJECTS_FIRST;
				break;
			}
			/* an ordinary member: keep it in top */
			if (js->top.len > 1)
				rc = sk_buf_putc(&js->top, ',');
			if (!rc)
				rc = sk_buf_append(&js->top, js->elem.data, js->elem.len);
			if (!rc)
				rc = sk_buf_putc(&js->top, ':');
			if (rc)
				return fail(js, err, SK_ELIMIT, "element larger than the size limit");
			if ((rc = capture(js, &js->elem, 1, err)))
				return rc;
			if ((rc = sk_buf_append(&js->top, js->elem.data, js->elem.len)))
				return fail(js, err, SK_ELIMIT, "element larger than the size limit");
			js->st = ST_OBJ_NEXT;
			break;

		case ST_DONE:
		case ST_FAILED:
			break;
		}
	}
}

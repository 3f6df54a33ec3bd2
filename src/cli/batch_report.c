/* callbar batch --report: the counts behind the plots, and the HTML file
 * (batch_report.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "batch_report.h"
#include "callbar/civil.h"
#include "callbar/number.h"

#define NV         3
#define EMPTY_HOUR INT64_MIN

struct hour {
	int64_t at; /* hours since 1970 in the rule file's zone; EMPTY_HOUR: free */
	uint64_t n[NV];
};

struct report_tally {
	struct hour *hours; /* open addressing, at most half full */
	size_t hcap, hn;
	uint64_t outside[NV]; /* past REPORT_HOURS_MAX distinct hours */
	uint64_t region[256][NV];
	uint64_t carrier[256][NV];
	uint64_t *block_rule; /* blocks by rule index; [i] grows as rules are met */
	size_t nblock_rule;
	uint64_t *subs; /* newly barred subscribers (E.164 as integers, 0: free) */
	size_t scap, sn;
	bool subs_full, short_of_memory;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static struct hour *hour_slot(struct report_tally *r, int64_t at)
{
	if (r->hn * 2 >= r->hcap) {
		if (r->hn >= REPORT_HOURS_MAX)
			return NULL;
		size_t cap = r->hcap ? r->hcap * 2 : 1024;
		struct hour *h = malloc(cap * sizeof *h);
		if (!h) {
			r->short_of_memory = true;
			return NULL;
		}
		for (size_t i = 0; i < cap; i++)
			h[i].at = EMPTY_HOUR;
		for (size_t i = 0; i < r->hcap; i++) {
			if (r->hours[i].at == EMPTY_HOUR)
				continue;
			size_t k = mix((uint64_t)r->hours[i].at) & (cap - 1);
			while (h[k].at != EMPTY_HOUR)
				k = (k + 1) & (cap - 1);
			h[k] = r->hours[i];
		}
		free(r->hours);
		r->hours = h;
		r->hcap = cap;
	}
	size_t k = mix((uint64_t)at) & (r->hcap - 1);
	while (r->hours[k].at != EMPTY_HOUR && r->hours[k].at != at)
		k = (k + 1) & (r->hcap - 1);
	if (r->hours[k].at == EMPTY_HOUR) {
		r->hours[k] = (struct hour){.at = at};
		r->hn++;
	}
	return &r->hours[k];
}

static void sub_add(struct report_tally *r, uint64_t e164)
{
	if (!e164)
		return;
	if (r->sn * 2 >= r->scap) {
		if (r->sn >= REPORT_SUBS_MAX) {
			r->subs_full = true;
			return;
		}
		size_t cap = r->scap ? r->scap * 2 : 1024;
		uint64_t *s = calloc(cap, sizeof *s);
		if (!s) {
			r->short_of_memory = true;
			return;
		}
		for (size_t i = 0; i < r->scap; i++) {
			if (!r->subs[i])
				continue;
			size_t k = mix(r->subs[i]) & (cap - 1);
			while (s[k])
				k = (k + 1) & (cap - 1);
			s[k] = r->subs[i];
		}
		free(r->subs);
		r->subs = s;
		r->scap = cap;
	}
	size_t k = mix(e164) & (r->scap - 1);
	while (r->subs[k] && r->subs[k] != e164)
		k = (k + 1) & (r->scap - 1);
	if (!r->subs[k]) {
		r->subs[k] = e164;
		r->sn++;
	}
}

static void block_rule_add(struct report_tally *r, size_t rule, uint64_t n)
{
	if (rule >= r->nblock_rule) {
		size_t cap = rule + 64;
		uint64_t *b = realloc(r->block_rule, cap * sizeof *b);
		if (!b) {
			r->short_of_memory = true;
			return;
		}
		memset(b + r->nblock_rule, 0, (cap - r->nblock_rule) * sizeof *b);
		r->block_rule = b;
		r->nblock_rule = cap;
	}
	r->block_rule[rule] += n;
}

static struct report_tally *made(struct report_tally **rt)
{
	if (!*rt && (*rt = calloc(1, sizeof **rt)) == NULL)
		return NULL;
	return *rt;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

void cbar_report_count(struct report_tally **rt, const struct cbar_event *ev, int32_t tz,
                       const struct cbar_verdict *v, const struct cbar_verdict *ov)
{
	struct report_tally *r = made(rt);
	unsigned d = (unsigned)v->decision;
	if (!r || d >= NV)
		return;
	struct hour *h = hour_slot(r, floor_div(ev->time + tz, 3600));
	if (h)
		h->n[d]++;
	else
		r->outside[d]++;
	const struct cbar_number *sub = ev->subscriber;
	uint8_t region = ev->region != CBAR_NONE ? ev->region : sub ? sub->region : CBAR_NONE;
	uint8_t carrier = ev->carrier != CBAR_NONE ? ev->carrier : sub ? sub->carrier : CBAR_NONE;
	r->region[region][d]++;
	r->carrier[carrier][d]++;
	if (d == CBAR_BLOCK && v->rule >= 0)
		block_rule_add(r, (size_t)v->rule, 1);
	if (ov && ov->decision == CBAR_ALLOW && d == CBAR_BLOCK && sub)
		sub_add(r, sub->e164);
}

void cbar_report_add(struct report_tally **to, const struct report_tally *from)
{
	if (!from)
		return;
	struct report_tally *r = made(to);
	if (!r)
		return;
	for (size_t i = 0; i < from->hcap; i++) {
		const struct hour *f = &from->hours[i];
		if (f->at == EMPTY_HOUR)
			continue;
		struct hour *h = hour_slot(r, f->at);
		for (int k = 0; k < NV; k++)
			*(h ? &h->n[k] : &r->outside[k]) += f->n[k];
	}
	for (int k = 0; k < NV; k++)
		r->outside[k] += from->outside[k];
	for (size_t i = 0; i < 256; i++)
		for (int k = 0; k < NV; k++) {
			r->region[i][k] += from->region[i][k];
			r->carrier[i][k] += from->carrier[i][k];
		}
	for (size_t i = 0; i < from->nblock_rule; i++)
		if (from->block_rule[i])
			block_rule_add(r, i, from->block_rule[i]);
	for (size_t i = 0; i < from->scap; i++)
		sub_add(r, from->subs[i]);
	r->subs_full |= from->subs_full;
	r->short_of_memory |= from->short_of_memory;
}

void cbar_report_free(struct report_tally *rt)
{
	if (!rt)
		return;
	free(rt->hours);
	free(rt->block_rule);
	free(rt->subs);
	free(rt);
}

/* ---- the file ---------------------------------------------------------- */

static const char *const vnames[NV] = {"allow", "block", "error"};

static json_t *verdicts(const uint64_t n[NV])
{
	return json_pack("{s:I,s:I,s:I}", "allow", (json_int_t)n[0], "block", (json_int_t)n[1],
	                 "error", (json_int_t)n[2]);
}

/* A rule's row: "file:line" (or "emergency" for the slot after the last
 * rule), its reason, and n. */
static json_t *rule_row(const struct ruleset *rs, size_t i, uint64_t n)
{
	size_t nr = cbar_rules_count(rs->rules);
	const char *reason = i < nr ? cbar_rules_reason(rs->rules, i) : "emergency";
	return json_pack("{s:s,s:s?,s:I}", "rule", i < nr ? rs->rule_txt[i] : "emergency", "reason",
	                 reason, "n", (json_int_t)n);
}

/* The summary's per-rule lines (cmd_batch.c print_per_rule()) as rows. */
static json_t *rule_rows(const struct ruleset *rs, const uint64_t *counts)
{
	json_t *a = json_array();
	size_t nr = cbar_rules_count(rs->rules);
	if (counts[nr])
		json_array_append_new(a, rule_row(rs, nr, counts[nr]));
	for (size_t i = 0; i < nr; i++)
		if (counts[i])
			json_array_append_new(a, rule_row(rs, i, counts[i]));
	return a;
}

/* A time's label in the rule file's zone: "2022-05-08 09:00" (hour) or
 * "2022-05-08" (day). */
static json_t *time_label(int64_t local_hour, int32_t tz, bool days)
{
	char buf[CBAR_CIVIL_FORMAT_MAX + 8];
	if (!cbar_civil_format(local_hour * 3600 - tz, tz, buf, sizeof buf))
		return json_string("?");
	buf[10] = days ? '\0' : ' ';
	if (!days)
		buf[16] = '\0';
	return json_string(buf);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Records by verdict over time: by hour when the records span at most four
 * days, else by day; every hour (day) between the first and the last. */
static json_t *time_json(const struct report_tally *r, int32_t tz)
{
	json_t *t =
	    json_pack("{s:s,s:[],s:[],s:[],s:[],s:o}", "unit", "hour", "labels", "allow", "block",
	              "error", "outside", verdicts(r ? r->outside : (uint64_t[NV]){0}));
	if (!r || !r->hn)
		return t;
	int64_t *at = malloc(r->hn * sizeof *at);
	if (!at)
		return t;
	size_t n = 0;
	for (size_t i = 0; i < r->hcap; i++)
		if (r->hours[i].at != EMPTY_HOUR)
			at[n++] = r->hours[i].at;
	qsort(at, n, sizeof *at, cmp_i64);
	bool days = at[n - 1] - at[0] >= 96;
	int64_t step = days ? 24 : 1;
	int64_t first = floor_div(at[0], step) * step, last = floor_div(at[n - 1], step) * step;
	json_object_set_new(t, "unit", json_string(days ? "day" : "hour"));
	json_t *lab = json_object_get(t, "labels");
	json_t *col[NV];
	for (int k = 0; k < NV; k++)
		col[k] = json_object_get(t, vnames[k]);
	size_t j = 0;
	for (int64_t b = first; b <= last; b += step) {
		uint64_t sum[NV] = {0};
		for (; j < n && at[j] < b + step; j++) {
			const struct report_tally *rr = r;
			size_t k = mix((uint64_t)at[j]) & (rr->hcap - 1);
			while (rr->hours[k].at != at[j])
				k = (k + 1) & (rr->hcap - 1);
			for (int v = 0; v < NV; v++)
				sum[v] += rr->hours[k].n[v];
		}
		json_array_append_new(lab, time_label(b, tz, days));
		for (int v = 0; v < NV; v++)
			json_array_append_new(col[v], json_integer((json_int_t)sum[v]));
	}
	free(at);
	return t;
}

static json_t *region_json(const struct batch *b, const struct report_tally *r)
{
	json_t *a = json_array();
	for (size_t i = 0; r && i < 256; i++) {
		const uint64_t *n = r->region[i];
		if (!n[0] && !n[1] && !n[2])
			continue;
		const char *code = i ? cbar_numplan_region_code(b->np, (uint8_t)i) : NULL;
		json_t *o = verdicts(n);
		json_object_set_new(o, "key", json_string(code ? code : "unknown"));
		const char *zh = i ? cbar_numplan_region_name_zh(b->np, (uint8_t)i) : NULL;
		const char *en = i ? cbar_numplan_region_name_en(b->np, (uint8_t)i) : NULL;
		json_object_set_new(o, "name_zh", json_string(zh ? zh : "未知"));
		json_object_set_new(o, "name_en", json_string(en ? en : "unknown"));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *carrier_json(const struct report_tally *r)
{
	json_t *a = json_array();
	for (size_t i = 0; r && i < 256; i++) {
		const uint64_t *n = r->carrier[i];
		if (!n[0] && !n[1] && !n[2])
			continue;
		const char *key = cbar_carrier_key((enum cbar_carrier)i);
		const char *zh = cbar_carrier_name_zh((enum cbar_carrier)i);
		const char *en = cbar_carrier_name_en((enum cbar_carrier)i);
		json_t *o = verdicts(n);
		json_object_set_new(o, "key", json_string(key ? key : "unknown"));
		json_object_set_new(o, "name_zh", json_string(key && zh ? zh : "未知"));
		json_object_set_new(o, "name_en", json_string(key && en ? en : "unknown"));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *report_json(const struct batch *b, const char *rules_path, const char *old_path)
{
	const struct tally *t = &b->t;
	const struct report_tally *r = t->rep;
	size_t nr = cbar_rules_count(b->now.rules);
	uint64_t total = t->count[0] + t->count[1] + t->count[2];
	json_t *totals = verdicts(t->count);
	json_object_set_new(totals, "records", json_integer((json_int_t)total));
	json_t *blocks = json_array();
	for (size_t i = 0; r && i < r->nblock_rule && i < nr; i++)
		if (r->block_rule[i])
			json_array_append_new(blocks, rule_row(&b->now, i, r->block_rule[i]));
	json_t *j =
	    json_pack("{s:s,s:s?,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "rules", rules_path,
	              "compare_with", old_path, "tz_offset", (int)b->tz, "totals", totals, "time",
	              time_json(r, b->tz), "per_rule", rule_rows(&b->now, t->per_rule),
	              "blocks_by_rule", blocks, "by_region", region_json(b, r), "by_carrier",
	              carrier_json(r), "incomplete", r && r->short_of_memory);
	if (!b->old.rules)
		return j;
	json_t *ch = json_object();
	uint64_t same = 0, decided = 0;
	for (int i = 0; i < NV; i++)
		for (int k = 0; k < NV; k++) {
			decided += t->changes[i][k];
			if (i == k) {
				same += t->changes[i][k];
				continue;
			}
			char key[32];
			snprintf(key, sizeof key, "%s->%s", vnames[i], vnames[k]);
			json_object_set_new(ch, key, json_integer((json_int_t)t->changes[i][k]));
		}
	json_object_set_new(
	    j, "compare",
	    json_pack("{s:I,s:I,s:o,s:o,s:o,s:I,s:b}", "decided", (json_int_t)decided, "changed",
	              (json_int_t)(decided - same), "changes", ch, "changed_by",
	              rule_rows(&b->now, t->changed_by), "old_per_rule",
	              rule_rows(&b->old, t->old_per_rule), "newly_barred_subscribers",
	              (json_int_t)(r ? r->sn : 0), "newly_barred_at_least", r && r->subs_full));
	return j;
}

/* The page: its look and its drawing code, with the numbers between. */
static const char page_head[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>callbar batch report</title>\n<style>\n"
    "body{font:15px/1.4 system-ui,\"Noto Sans CJK SC\",sans-serif;margin:1rem auto;max-width:"
    "70rem;padding:0 1rem;color:#1b1f24}\n"
    "h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.6rem}\n"
    "table{border-collapse:collapse;margin:.5rem 0}td,th{border-bottom:1px solid #d0d7de;"
    "padding:.2rem .6rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "svg{width:100%;height:auto}.axis{stroke:#57606a}.tick{font-size:11px;fill:#57606a}\n"
    ".allow{fill:#1a7f37}.block{fill:#cf222e}.error{fill:#9a6700}.bar{fill:#0b5cad}\n"
    ".legend span{margin-right:1rem}.legend .allow,.legend .block,.legend .error{fill:none}\n"
    ".la{color:#1a7f37}.lb{color:#cf222e}.le{color:#9a6700}.muted{color:#57606a}\n"
    "</style>\n</head>\n<body>\n<h1>callbar batch report</h1>\n<div id=\"report\"></div>\n"
    "<script type=\"application/json\" id=\"cbar-data\">";

static const char *const page_tail[] = {
    "</script>\n<script>\n",
    "\"use strict\";\n",
    "(function(){\n",
    "var D=JSON.parse(document.getElementById('cbar-data').textContent);\n",
    "var "
    "R=document.getElementById('report'),NS='http://www.w3.org/2000/"
    "svg',V=['allow','block','error'];\n",
    "function el(t,a,x){var e=document.createElement(t);for(var k in a)e.setAttribute(k,a[k]);"
    "if(x!==undefined)e.textContent=x;return e}\n",
    "function sv(t,a,x){var e=document.createElementNS(NS,t);for(var k in a)e.setAttribute(k,a[k]);"
    "if(x!==undefined)e.textContent=x;return e}\n",
    "function h2(x){R.appendChild(el('h2',{},x))}\n",
    "function p(x,c){R.appendChild(el('p',c?{'class':c}:{},x))}\n",
    "function table(head,rows){var t=el('table');var tr=el('tr');head.forEach(function(h){"
    "tr.appendChild(el('th',{},h))});t.appendChild(tr);rows.forEach(function(r){var tr=el('tr');"
    "r.forEach(function(c){tr.appendChild(el('td',typeof "
    "c==='number'?{'class':'n'}:{},String(c)))});"
    "t.appendChild(tr)});R.appendChild(t)}\n",
    /* stacked bars over time */
    "function stacked(id,labels,cols){var n=labels.length,W=900,H=260,L=50,B=40,T=10,max=1,tot=0;"
    "for(var i=0;i<n;i++){var "
    "s=0;cols.forEach(function(c){s+=D.time[c][i]});max=Math.max(max,s);tot+=s}"
    "var g=sv('svg',{viewBox:'0 0 '+W+' '+H,id:id,'data-total':String(tot),role:'img'});"
    "var bw=(W-L-10)/Math.max(n,1);"
    "g.appendChild(sv('line',{x1:L,y1:H-B,x2:W-10,y2:H-B,'class':'axis'}));"
    "g.appendChild(sv('text',{x:L-4,y:T+10,'text-anchor':'end','class':'tick'},String(max)));"
    "for(var i=0;i<n;i++){var y=H-B;cols.forEach(function(c){var v=D.time[c][i];if(!v)return;"
    "var h=(H-B-T)*v/max;y-=h;var "
    "r=sv('rect',{x:L+i*bw+1,y:y,width:Math.max(bw-2,1),height:h,'class':c});"
    "r.appendChild(sv('title',{},labels[i]+' '+c+': '+v));g.appendChild(r)});"
    "if(n<=8||i%Math.ceil(n/"
    "8)===0)g.appendChild(sv('text',{x:L+i*bw,y:H-B+14,'class':'tick'},labels[i].slice(5)))}"
    "R.appendChild(g);var lg=el('p',{'class':'legend'});"
    "lg.appendChild(el('span',{'class':'la'},'\\u25a0 "
    "allow'));lg.appendChild(el('span',{'class':'lb'},'\\u25a0 block'));"
    "lg.appendChild(el('span',{'class':'le'},'\\u25a0 error'));R.appendChild(lg)}\n",
    /* horizontal bars */
    "function bars(id,rows){var W=900,rowh=22,L=260,H=rows.length*rowh+10,max=1,tot=0;"
    "rows.forEach(function(r){max=Math.max(max,r[1]);tot+=r[1]});"
    "var g=sv('svg',{viewBox:'0 0 '+W+' "
    "'+Math.max(H,30),id:id,'data-total':String(tot),role:'img'});"
    "rows.forEach(function(r,i){g.appendChild(sv('text',{x:L-6,y:i*rowh+16,'text-anchor':'end','"
    "class':'tick'},r[0]));"
    "g.appendChild(sv('rect',{x:L,y:i*rowh+4,width:Math.max((W-L-80)*r[1]/"
    "max,1),height:rowh-8,'class':'bar'}));"
    "g.appendChild(sv('text',{x:L+(W-L-80)*r[1]/max+6,y:i*rowh+16,'class':'tick'},String(r[1])))});"
    "R.appendChild(g)}\n",
    "var T=D.totals;\n",
    "p('Rules: '+D.rules+(D.compare_with?' (compared with '+D.compare_with+')':'')+'. "
    "'+T.records+' records: '"
    "+T.allow+' allow, '+T.block+' block, '+T.error+' error. Times in the rule file\\u2019s zone "
    "(UTC'+"
    "(D.tz_offset>=0?'+':'-')+String(Math.abs(D.tz_offset)/3600)+').');\n",
    "if(D.incomplete)p('Memory ran short: some counts below are incomplete.','muted');\n",
    "h2('Records by verdict per '+D.time.unit);stacked('plot-time',D.time.labels,V);\n",
    "var und=T.error-D.time.error.reduce(function(a,b){return a+b},0);"
    "if(und>0)p(und+' bad records (no time read) are counted as errors but not drawn.','muted');\n",
    "h2('Blocks by rule');bars('plot-rules',D.blocks_by_rule.map(function(r){return[r.rule+' "
    "'+(r.reason||''),r.n]}));\n",
    "h2('Blocks by province (subscriber\\u2019s "
    "region)');bars('plot-region',D.by_region.filter(function(r){return r.block})"
    ".map(function(r){return[r.key+' '+r.name_zh,r.block]}));\n",
    "h2('Blocks by carrier "
    "(subscriber\\u2019s)');bars('plot-carrier',D.by_carrier.filter(function(r){return r.block})"
    ".map(function(r){return[r.key+' '+r.name_zh,r.block]}));\n",
    "h2('Every rule that decided (the "
    "summary)');table(['rule','reason','records'],D.per_rule.map(function(r){return[r.rule,r."
    "reason||'-',r.n]}));\n",
    "h2('By "
    "province');table(['region','','allow','block','error'],D.by_region.map(function(r){return[r."
    "key,r.name_zh+' '+r.name_en,r.allow,r.block,r.error]}));\n",
    "h2('By "
    "carrier');table(['carrier','','allow','block','error'],D.by_carrier.map(function(r){return[r."
    "key,r.name_zh+' '+r.name_en,r.allow,r.block,r.error]}));\n",
    "if(D.compare){var C=D.compare;h2('Compared with '+D.compare_with);"
    "p(C.changed+' of '+C.decided+' decided records change verdict; '+(C.newly_barred_at_least?'at "
    "least ':'')"
    "+C.newly_barred_subscribers+' subscribers would newly be barred (a record the old file "
    "allowed and the new one blocks).');"
    "table(['change','records'],Object.keys(C.changes).map(function(k){return[k,C.changes[k]]}));"
    "h2('Which rule now decides the changed "
    "records');bars('plot-changed',C.changed_by.map(function(r){return[r.rule+' "
    "'+(r.reason||''),r.n]}));"
    "table(['rule','reason','records'],C.changed_by.map(function(r){return[r.rule,r.reason||'-',r."
    "n]}));"
    "h2('The old file\\u2019s "
    "rules');table(['rule','reason','records'],C.old_per_rule.map(function(r){return[r.rule,r."
    "reason||'-',r.n]}))}\n",
    "document.body.setAttribute('data-drawn','1');\n",
    "})();\n</script>\n</body>\n</html>\n",
};

bool cbar_report_write(const char *path, const struct batch *b, const char *rules_path,
                       const char *old_path)
{
	json_t *j = report_json(b, rules_path, old_path);
	/* Slashes escaped: "</script>" cannot appear inside the data. */
	char *data = j ? json_dumps(j, JSON_COMPACT | JSON_ESCAPE_SLASH) : NULL;
	json_decref(j);
	FILE *f = data ? fopen(path, "w") : NULL;
	bool ok = f && fputs(page_head, f) >= 0 && fputs(data, f) >= 0;
	for (size_t i = 0; ok && i < sizeof page_tail / sizeof page_tail[0]; i++)
		ok = fputs(page_tail[i], f) >= 0;
	if (f && fclose(f))
		ok = false;
	if (!ok) {
		if (data)
			perror(path);
		else
			fputs("callbar batch: --report: out of memory\n", stderr);
	}
	free(data);
	return ok;
}

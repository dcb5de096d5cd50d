/* widget_spark.c — sparklines: a series of values as one line of block characters
 * (▁▂▃▄▅▆▇█), or ASCII (_.-:=+*#) where the terminal is not UTF-8 and in the text snapshot.
 * Zero is the lowest block, so a flat line of "no lag" is still visible; an unknown value (NAN)
 * is a blank; any value above zero is at least the second block. */
#include <math.h>
#include <string.h>

#include "tui/doc.h"

static const char *const blocks[8] = {
    "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
    "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
};
static const char ascii[8] = {'_', '.', '-', ':', '=', '+', '*', '#'};

static int level(double v, double max)
{
    if (!(v > 0) || !(max > 0))
        return 0;
    int l = 1 + (int)(v / max * 6.999);
    return l > 7 ? 7 : l;
}

char *spark_text(char *buf, size_t len, const double *v, size_t n, int width, double max, bool utf8)
{
    size_t o = 0;
    if (!len)
        return buf;
    buf[0] = '\0';
    if (width <= 0)
        return buf;
    size_t from = n > (size_t)width ? n - (size_t)width : 0;
    for (size_t i = from; i < n; i++) /* the scale: max, or the peak shown if higher */
        if (isfinite(v[i]) && v[i] > max)
            max = v[i];
    for (size_t i = from; i < n; i++) {
        const char *ch;
        char one[2] = {0, 0};
        if (!isfinite(v[i]))
            ch = " ";
        else if (utf8)
            ch = blocks[level(v[i], max)];
        else
            ch = (one[0] = ascii[level(v[i], max)], one);
        size_t l = strlen(ch);
        if (o + l + 1 > len)
            break;
        memcpy(buf + o, ch, l);
        o += l;
    }
    buf[o] = '\0';
    return buf;
}

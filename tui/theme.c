/* theme.c — semantic screen attributes. With colour: green/yellow/red for OK/WARN/CRIT. Without
 * (--no-color, NO_COLOR, or a terminal without colours) state stays readable through bold,
 * underline and reverse video alone. */
#include "tui/screen.h"

static attr_t attrs[TH_MAX];

void theme_init(bool color)
{
    bool c = color && has_colors();
    if (c) {
        start_color();
        use_default_colors();
        init_pair(1, COLOR_GREEN, -1);
        init_pair(2, COLOR_YELLOW, -1);
        init_pair(3, COLOR_RED, -1);
        init_pair(4, COLOR_BLACK, COLOR_CYAN);
        init_pair(5, COLOR_CYAN, -1);
        init_pair(6, COLOR_BLACK, COLOR_GREEN);
    }
    attrs[TH_NORMAL] = A_NORMAL;
    attrs[TH_OK] = c ? COLOR_PAIR(1) : A_NORMAL;
    attrs[TH_WARN] = c ? COLOR_PAIR(2) | A_BOLD : A_BOLD;
    attrs[TH_CRIT] = c ? COLOR_PAIR(3) | A_BOLD : A_BOLD | A_UNDERLINE;
    attrs[TH_DIM] = A_DIM;
    attrs[TH_HEADER] = c ? COLOR_PAIR(5) | A_BOLD : A_BOLD;
    attrs[TH_TITLE] = c ? COLOR_PAIR(6) : A_REVERSE;
    attrs[TH_TAB] = A_NORMAL;
    attrs[TH_TAB_ACTIVE] = c ? COLOR_PAIR(4) | A_BOLD : A_REVERSE | A_BOLD;
    attrs[TH_SELECTED] = c ? COLOR_PAIR(4) : A_REVERSE;
    attrs[TH_FOOTER_KEY] = A_REVERSE;
    attrs[TH_FOOTER] = A_NORMAL;
}

attr_t theme(enum role r) { return attrs[r]; }

attr_t theme_sev(enum sev s)
{
    switch (s) {
    case SEV_OK: return attrs[TH_OK];
    case SEV_WARN: return attrs[TH_WARN];
    case SEV_CRIT: return attrs[TH_CRIT];
    case SEV_DIM: return attrs[TH_DIM];
    default: return attrs[TH_NORMAL];
    }
}

/* batch_ui.c — the controls of pane 8 (Batch jobs): pause, resume, cancel, cancel now and the
 * batch size of a batched migration, as audited jobs. */
#include "tui/screen.h"

bool ui_batch_control(struct tui *t, size_t server, const char *job, const char *source, enum batch_ctl ctl)
{
    (void)server, (void)job, (void)source, (void)ctl;
    tui_message(t, "batch controls are not built yet");
    return false;
}

/* agent_sys.h - obtain_system_info: the machine at a glance (the reference
 * bot's usage view), from uname, /proc and statvfs. */
#ifndef NESTD_AGENT_SYS_H
#define NESTD_AGENT_SYS_H

#include <stddef.h>
#include "json.h"

/* One object into w; 0, or -1 with err. */
int sys_info(struct jw *w, char *err, size_t errlen);

#endif

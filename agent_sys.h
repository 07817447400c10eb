/* agent_sys.h - obtain_system_info: the machine at a glance (the reference
 * bot's usage view), from uname, /proc and statvfs. */
#ifndef NESTD_AGENT_SYS_H
#define NESTD_AGENT_SYS_H

#include <stddef.h>
#include <sys/types.h>
#include "json.h"

/* One object into w; 0, or -1 with err. */
int sys_info(struct jw *w, char *err, size_t errlen);
/* The machine's memory: MemTotal and MemAvailable, in bytes (0 unknown). */
void sys_memory(unsigned long long *total, unsigned long long *avail);
/* A small file (/proc, /sys) into b[0..cap), NUL-terminated: its length,
 * or -1. */
ssize_t sys_read(const char *path, char *b, size_t cap);
/* CPUs in a kernel CPU list ("0-3,6,8-11", as /sys/devices/system/cpu/
 * online has it, optionally ending in a newline); 0 when malformed. */
long sys_cpu_list_count(const char *list);

#endif

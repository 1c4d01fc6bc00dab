/* Test hooks of the resize family (runtime/ops/resize.c). */
#ifndef SC_RUNTIME_OPS_RESIZE_H
#define SC_RUNTIME_OPS_RESIZE_H

/* Forces the generic (reference) Resize path, for tests comparing it with
 * the fast paths. */
void sc_resize_force_reference(int force);

#endif

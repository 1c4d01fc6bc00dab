#include <malloc.h>

#include "verifier/cli.h"

/* Tensor storage larger than 1 MiB is mapped from the system and returned
 * to it when freed (buffers of 1 MiB and more pass through the runtime's
 * recycler first, which keeps some within the peak: runtime/tensor.c).
 * glibc's default raises that threshold to the largest block freed so far
 * (up to 32 MiB), after which large tensors come from the heap and their
 * freed space stays resident: on the ISNet chain that was 127 MB of peak
 * memory (README, "Performance"). The library leaves the process's
 * allocator alone; the program sets it. */
#define MMAP_THRESHOLD (1 << 20)

int main(int argc, char **argv)
{
  mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
  return sc_cli_main(argc, argv);
}

/* Sora.Torch.Native: the C boundary between .NET and libtorch.
 *
 * Conventions shared by every header:
 * - Handles are opaque pointers owned by the caller; each handle type has one *_dispose export.
 * - No C++ exception crosses this boundary. A failing export returns NULL (handle results)
 *   or a negative status (int32_t results) and leaves a message in a thread-local slot that
 *   sora_last_error_message copies into a caller-owned buffer.
 * - Arrays are written into memory the caller allocated; nothing is freed across heaps.
 */
#ifndef SORA_COMMON_H
#define SORA_COMMON_H

#include <stdint.h>

#ifdef __cplusplus
#define SORA_EXTERN_C extern "C"
#else
#define SORA_EXTERN_C
#endif

#define SORA_API SORA_EXTERN_C __attribute__((visibility("default")))

/* Bumped whenever an export changes signature; the C# binding refuses a mismatched library. */
#define SORA_ABI_VERSION 5

typedef struct sora_tensor_s* sora_tensor;
typedef struct sora_hook_s* sora_hook;

/* Error kinds, mirrored by Sora.Torch.TorchErrorKind. */
enum sora_error_kind {
  SORA_OK = 0,
  SORA_ERR_TORCH = 1,          /* c10::Error not covered below */
  SORA_ERR_INDEX = 2,          /* c10::IndexError */
  SORA_ERR_VALUE = 3,          /* c10::ValueError */
  SORA_ERR_TYPE = 4,           /* c10::TypeError */
  SORA_ERR_NOT_IMPLEMENTED = 5,/* c10::NotImplementedError */
  SORA_ERR_STD = 6,            /* other std::exception */
  SORA_ERR_UNKNOWN = 7,        /* anything else thrown */
  SORA_ERR_CALLBACK = 8,       /* a managed callback (gradient hook) failed */
  SORA_ERR_ARGUMENT = 9,       /* rejected by the shim's own argument checks */
  SORA_ERR_OUT_OF_MEMORY = 10
};

/* A scalar argument: kind 0 = floating (d), 1 = integral (i), 2 = boolean (i != 0). */
typedef struct sora_scalar {
  double d;
  int64_t i;
  int32_t kind;
} sora_scalar;

SORA_API int32_t sora_abi_version(void);

/* Kind of the last error on this thread (SORA_OK if none). */
SORA_API int32_t sora_last_error_kind(void);
/* Copies the last error message (UTF-8, no terminator) into buf; returns its full length. */
SORA_API int32_t sora_last_error_message(char* buf, int32_t capacity);
SORA_API void sora_clear_error(void);
/* Lets a managed callback report its failure so the native caller can abort with it. token
 * identifies the managed exception; it travels with the error to whichever thread reports it
 * (autograd may run hooks on its own threads) and comes back from sora_last_error_token. */
SORA_API void sora_set_callback_error(const char* message, int64_t token);
/* The token of the last SORA_ERR_CALLBACK error on this thread, 0 otherwise. */
SORA_API int64_t sora_last_error_token(void);

#endif

/* Tensors: creation, properties, data movement, lifetime. */
#ifndef SORA_TENSOR_H
#define SORA_TENSOR_H

#include "sora/common.h"

/* dtype codes are c10::ScalarType values: 0 uint8, 1 int8, 2 int16, 3 int32, 4 int64,
 * 5 float16, 6 float32, 7 float64, 11 bool, 15 bfloat16.
 * device_type: 0 cpu, 1 cuda. */

SORA_API void sora_tensor_dispose(sora_tensor t);
/* Tensor handles created and not yet disposed, process-wide (for leak checks). */
SORA_API int64_t sora_tensor_live_count(void);
/* A second handle to the same tensor (shares storage and autograd identity). */
SORA_API sora_tensor sora_tensor_alias(sora_tensor t);

SORA_API sora_tensor sora_tensor_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
/* count uninitialised CPU tensors in one 2 MiB-aligned mapping advised for huge pages; shapes are concatenated,
   ndims[i] long each; the mapping is unmapped when the last tensor is freed. */
SORA_API int32_t sora_tensor_empty_shared(int32_t count, const int64_t* shapes, const int32_t* ndims, const int32_t* dtypes, sora_tensor* out);
SORA_API sora_tensor sora_tensor_zeros(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
SORA_API sora_tensor sora_tensor_ones(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
SORA_API sora_tensor sora_tensor_full(const int64_t* shape, int32_t ndim, sora_scalar value, int32_t dtype, int32_t device_type, int32_t device_index);
SORA_API sora_tensor sora_tensor_arange(sora_scalar start, sora_scalar end, sora_scalar step, int32_t dtype, int32_t device_type, int32_t device_index);
SORA_API sora_tensor sora_tensor_randn(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
SORA_API sora_tensor sora_tensor_rand(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
SORA_API sora_tensor sora_tensor_randint(int64_t low, int64_t high, const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
SORA_API sora_tensor sora_tensor_scalar_tensor(sora_scalar value, int32_t dtype, int32_t device_type, int32_t device_index);
/* Copies nbytes from data into a new CPU tensor of the given shape and dtype. */
SORA_API sora_tensor sora_tensor_from_data(const void* data, int64_t nbytes, const int64_t* shape, int32_t ndim, int32_t dtype);

/* Copies the tensor's elements (row-major, any device or layout) into dst; nbytes must equal numel*element_size. */
SORA_API int32_t sora_tensor_copy_to(sora_tensor t, void* dst, int64_t nbytes);
/* Raw data pointer of a tensor (for zero-copy views of contiguous CPU tensors). */
SORA_API void* sora_tensor_data_ptr(sora_tensor t);

SORA_API int32_t sora_tensor_ndim(sora_tensor t);
/* Writes min(ndim, capacity) sizes/strides; returns ndim or -1. */
SORA_API int32_t sora_tensor_shape(sora_tensor t, int64_t* out, int32_t capacity);
SORA_API int32_t sora_tensor_strides(sora_tensor t, int64_t* out, int32_t capacity);
SORA_API int64_t sora_tensor_numel(sora_tensor t);
SORA_API int32_t sora_tensor_dtype(sora_tensor t);
SORA_API int32_t sora_tensor_device_type(sora_tensor t);
SORA_API int32_t sora_tensor_device_index(sora_tensor t);
SORA_API int32_t sora_tensor_is_contiguous(sora_tensor t);
SORA_API int64_t sora_tensor_storage_offset(sora_tensor t);
/* Identity of the underlying storage, to tell whether two tensors share memory. */
SORA_API const void* sora_tensor_storage_id(sora_tensor t);
/* 1 for a defined tensor. */
SORA_API int32_t sora_tensor_defined(sora_tensor t);
/* Reads a one-element tensor. */
SORA_API int32_t sora_tensor_item_double(sora_tensor t, double* out);
SORA_API int32_t sora_tensor_item_int64(sora_tensor t, int64_t* out);
/* torch's printed form of the tensor; returns its full length. */
SORA_API int32_t sora_tensor_to_string(sora_tensor t, char* buf, int32_t capacity);

SORA_API sora_tensor sora_tensor_to_dtype(sora_tensor t, int32_t dtype);
SORA_API sora_tensor sora_tensor_to_device(sora_tensor t, int32_t device_type, int32_t device_index, int32_t non_blocking);
/* A copy of CPU tensor t in page-locked (pinned) host memory, from which a non-blocking copy to a CUDA device
 * runs asynchronously. Needs a CUDA build: a CPU-only libtorch has no pinned-memory allocator. */
SORA_API sora_tensor sora_tensor_pin_memory(sora_tensor t);
/* 1 when t's memory is pinned host memory, 0 when not (always 0 in a CPU-only build), -1 on error. */
SORA_API int32_t sora_tensor_is_pinned(sora_tensor t);
SORA_API sora_tensor sora_tensor_clone(sora_tensor t);
SORA_API sora_tensor sora_tensor_contiguous(sora_tensor t);
SORA_API int32_t sora_tensor_copy_(sora_tensor dst, sora_tensor src);
SORA_API int32_t sora_tensor_fill_(sora_tensor t, sora_scalar value);
SORA_API int32_t sora_tensor_zero_(sora_tensor t);
/* In-place random fills from the default generator. */
SORA_API int32_t sora_tensor_uniform_(sora_tensor t, double from, double to);
SORA_API int32_t sora_tensor_normal_(sora_tensor t, double mean, double std);
/* Re-binds t's handle to refer to another tensor (used to swap a parameter's data). */
SORA_API int32_t sora_tensor_set_data(sora_tensor t, sora_tensor source);
/* Resizes the storage under t to nbytes (0 frees its memory; views of it keep their shapes and
 * become valid again once it is resized back and refilled). What FSDP frees gathered parameters with. */
SORA_API int32_t sora_tensor_storage_resize(sora_tensor t, int64_t nbytes);
/* Bytes of the storage under t. */
SORA_API int64_t sora_tensor_storage_nbytes(sora_tensor t);

#endif

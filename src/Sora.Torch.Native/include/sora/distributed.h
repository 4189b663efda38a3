/* Distributed: the c10d rendezvous store (TCPStore) and process groups (Gloo on CPU; NCCL when the
 * libtorch being built against has CUDA). Collectives return a work handle; waiting on it is where
 * a peer's failure or a timeout surfaces as an error.
 */
#ifndef SORA_DISTRIBUTED_H
#define SORA_DISTRIBUTED_H

#include "sora/common.h"

typedef struct sora_store_s* sora_store;
typedef struct sora_process_group_s* sora_process_group;
typedef struct sora_work_s* sora_work;

/* Reduction operators, mirrored by Sora.Torch.Distributed.ReduceOp. */
enum sora_reduce_op {
  SORA_REDUCE_SUM = 0,
  SORA_REDUCE_AVG = 1, /* Gloo has no AVG: SUM, then divide by the world size */
  SORA_REDUCE_MAX = 2,
  SORA_REDUCE_MIN = 3,
  SORA_REDUCE_PRODUCT = 4
};

/* Process group backends, mirrored by Sora.Torch.Distributed.ProcessGroupBackend. */
enum sora_backend { SORA_BACKEND_GLOO = 0, SORA_BACKEND_NCCL = 1 };

/* A TCPStore: is_server != 0 starts the server on (host, port) in this process (port 0 picks a free
 * one; read it back with sora_store_port). world_size > 0 with wait_for_workers != 0 makes the server
 * wait until that many clients joined. timeout_ms bounds connect, get and wait. */
SORA_API sora_store sora_store_tcp_create(const char* host, int32_t port, int32_t is_server, int32_t world_size,
                                          int32_t wait_for_workers, int64_t timeout_ms);
/* A view of a store whose keys all start with prefix + "/". */
SORA_API sora_store sora_store_prefix_create(const char* prefix, sora_store inner);
SORA_API int32_t sora_store_port(sora_store store);
SORA_API int32_t sora_store_set(sora_store store, const char* key, const uint8_t* value, int64_t length);
/* Copies the value into (buf, capacity) and returns its full length (waiting for the key up to the
 * store's timeout); call again with a larger buffer when the length exceeds capacity. */
SORA_API int64_t sora_store_get(sora_store store, const char* key, uint8_t* buf, int64_t capacity);
SORA_API int32_t sora_store_add(sora_store store, const char* key, int64_t delta, int64_t* result);
SORA_API int32_t sora_store_check(sora_store store, const char* key, int32_t* exists);
SORA_API int32_t sora_store_delete(sora_store store, const char* key, int32_t* deleted);
SORA_API int32_t sora_store_wait(sora_store store, const char* const* keys, int32_t count, int64_t timeout_ms);
SORA_API int32_t sora_store_set_timeout(sora_store store, int64_t timeout_ms);
SORA_API void sora_store_dispose(sora_store store);

/* Returns 1 when this build can create the backend, 0 otherwise. */
SORA_API int32_t sora_backend_available(int32_t backend);
/* A process group of size ranks over the store. host names the address Gloo binds and advertises
 * (for example 127.0.0.1, or this node's address); NCCL ignores it. timeout_ms bounds every
 * collective: a rank that died or stalled makes the others fail within it. */
SORA_API sora_process_group sora_process_group_create(int32_t backend, sora_store store, int32_t rank, int32_t size,
                                                      const char* host, int64_t timeout_ms);
SORA_API int32_t sora_process_group_rank(sora_process_group group);
SORA_API int32_t sora_process_group_size(sora_process_group group);
SORA_API void sora_process_group_dispose(sora_process_group group);

/* Collectives. Tensors must be contiguous and on the group's device; results are in place. */
SORA_API sora_work sora_all_reduce(sora_process_group group, sora_tensor tensor, int32_t op);
SORA_API sora_work sora_all_reduce_coalesced(sora_process_group group, const sora_tensor* tensors, int32_t count, int32_t op);
SORA_API sora_work sora_broadcast(sora_process_group group, sora_tensor tensor, int32_t root);
/* output holds size × input.numel() elements: rank r's input lands at [r·n, (r+1)·n). */
SORA_API sora_work sora_all_gather(sora_process_group group, sora_tensor output, sora_tensor input);
/* input holds size × output.numel() elements; rank r receives the reduction of every rank's
 * [r·n, (r+1)·n) slice. */
SORA_API sora_work sora_reduce_scatter(sora_process_group group, sora_tensor output, sora_tensor input, int32_t op);
SORA_API sora_work sora_barrier(sora_process_group group);

/* Waits for completion (timeout_ms <= 0: the group's timeout). Returns 0 on success, -1 with the
 * peer's failure or the timeout in the error slot. */
SORA_API int32_t sora_work_wait(sora_work work, int64_t timeout_ms);
/* 1 when finished (successfully or not), 0 while running. */
SORA_API int32_t sora_work_is_completed(sora_work work);
SORA_API void sora_work_dispose(sora_work work);

#endif

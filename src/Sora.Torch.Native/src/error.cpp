// The thread-local error slot and the translation of C++ exceptions into error kinds.
#include "internal.h"

namespace {
thread_local int32_t last_kind = SORA_OK;
thread_local std::string last_message;
thread_local int64_t last_token = 0;
thread_local std::string callback_message;
thread_local int64_t callback_token = 0;
}  // namespace

namespace sora {

callback_error take_callback_error(const char* fallback) {
  callback_error error(callback_message.empty() ? fallback : callback_message, callback_token);
  callback_message.clear();
  callback_token = 0;
  return error;
}

void set_error(int32_t kind, const char* message) {
  last_kind = kind;
  last_token = 0;
  last_message = message != nullptr ? message : "";
}

void set_error(int32_t kind, const std::string& message) {
  last_kind = kind;
  last_token = 0;
  last_message = message;
}

void record_exception(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const c10::IndexError& e) {
    set_error(SORA_ERR_INDEX, e.what_without_backtrace());
  } catch (const c10::ValueError& e) {
    set_error(SORA_ERR_VALUE, e.what_without_backtrace());
  } catch (const c10::TypeError& e) {
    set_error(SORA_ERR_TYPE, e.what_without_backtrace());
  } catch (const c10::NotImplementedError& e) {
    set_error(SORA_ERR_NOT_IMPLEMENTED, e.what_without_backtrace());
  } catch (const c10::Error& e) {
    set_error(SORA_ERR_TORCH, e.what_without_backtrace());
  } catch (const callback_error& e) {
    set_error(SORA_ERR_CALLBACK, e.what());
    last_token = e.token;
  } catch (const argument_error& e) {
    set_error(SORA_ERR_ARGUMENT, e.what());
  } catch (const std::bad_alloc& e) {
    set_error(SORA_ERR_OUT_OF_MEMORY, e.what());
  } catch (const std::exception& e) {
    set_error(SORA_ERR_STD, e.what());
  } catch (...) {
    set_error(SORA_ERR_UNKNOWN, "unknown C++ exception");
  }
}

}  // namespace sora

SORA_API int32_t sora_abi_version(void) { return SORA_ABI_VERSION; }

SORA_API int32_t sora_last_error_kind(void) { return last_kind; }

SORA_API int32_t sora_last_error_message(char* buf, int32_t capacity) {
  const auto length = static_cast<int32_t>(last_message.size());
  if (buf != nullptr && capacity > 0) {
    std::memcpy(buf, last_message.data(), static_cast<size_t>(std::min(length, capacity)));
  }
  return length;
}

SORA_API int64_t sora_last_error_token(void) { return last_token; }

SORA_API void sora_clear_error(void) {
  last_kind = SORA_OK;
  last_token = 0;
  last_message.clear();
}

SORA_API void sora_set_callback_error(const char* message, int64_t token) {
  callback_message = message != nullptr ? message : "managed callback failed";
  callback_token = token;
}

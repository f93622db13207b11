// The whole flow through the C ABI from C++17, with RAII owners for keyfob's handles:
//   login -> validate -> refresh -> logout -> validate again: refused with KEYFOB_REVOKED.
//
// Build against an installed keyfob (`make install`) with CMake, see CMakeLists.txt here;
// or from the build tree: c++ -std=c++17 hello.cpp -Iinclude -Ltarget/release -lkeyfob
#include <cstdint>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "keyfob.h"

namespace {

// Each owner frees its handle exactly once.
struct EngineFree {
    void operator()(keyfob_engine *e) const { keyfob_engine_free(e); }
};
struct PairFree {
    void operator()(keyfob_token_pair *p) const { keyfob_token_pair_free(p); }
};
struct StringFree {
    void operator()(keyfob_string *s) const { keyfob_string_free(s); }
};
using Engine = std::unique_ptr<keyfob_engine, EngineFree>;
using Pair = std::unique_ptr<keyfob_token_pair, PairFree>;
using String = std::unique_ptr<keyfob_string, StringFree>;

struct Error : std::runtime_error {
    keyfob_status status;
    Error(const std::string &step, keyfob_status s)
        : std::runtime_error(step + ": " + keyfob_status_name(s) + " (" +
                             keyfob_status_message(s) + ")"),
          status(s) {}
};

void check(const char *step, keyfob_status s) {
    if (s != KEYFOB_OK) throw Error(step, s);
}

const uint8_t *bytes(std::string_view s) { return reinterpret_cast<const uint8_t *>(s.data()); }

std::string_view access_of(const Pair &p) {
    size_t len = 0;
    const char *ptr = keyfob_token_pair_access(p.get(), &len);
    return {ptr, len};
}

std::string_view refresh_of(const Pair &p) {
    size_t len = 0;
    const char *ptr = keyfob_token_pair_refresh(p.get(), &len);
    return ptr ? std::string_view{ptr, len} : std::string_view{};
}

Pair login(const Engine &engine, std::string_view user) {
    keyfob_token_pair *raw = nullptr;
    check("login", keyfob_engine_login(engine.get(), bytes(user), user.size(), nullptr, 0, &raw));
    return Pair(raw);
}

Pair refresh(const Engine &engine, std::string_view token) {
    keyfob_token_pair *raw = nullptr;
    check("refresh", keyfob_engine_refresh(engine.get(), bytes(token), token.size(), &raw));
    return Pair(raw);
}

keyfob_status validate(const Engine &engine, std::string_view token, std::string *claims) {
    keyfob_string *raw = nullptr;
    keyfob_status s = keyfob_engine_validate(engine.get(), bytes(token), token.size(), &raw);
    String owned(raw);
    if (claims && owned) *claims = std::string(keyfob_string_ptr(owned.get()), keyfob_string_len(owned.get()));
    return s;
}

}  // namespace

int main() {
    try {
        constexpr std::string_view config =
            R"({"signing_key": "hello-example-secret-of-at-least-32-bytes"})";
        keyfob_engine *raw = nullptr;
        check("engine_new", keyfob_engine_new(bytes(config), config.size(), &raw));
        Engine engine(raw);
        std::cout << "keyfob " << keyfob_version() << " from C++\n";

        Pair first = login(engine, "42");
        std::cout << "1. login     -> session " << keyfob_token_pair_session_id(first.get(), nullptr)
                  << "\n";

        std::string claims;
        check("validate", validate(engine, access_of(first), &claims));
        std::cout << "2. validate  -> ok, claims " << claims << "\n";

        Pair second = refresh(engine, refresh_of(first));
        std::cout << "3. refresh   -> new access ..." << access_of(second).substr(access_of(second).size() - 16)
                  << "\n";
        check("validate new access", validate(engine, access_of(second), nullptr));
        std::cout << "   validate  -> ok with the new access token\n";

        std::string_view spent = refresh_of(second);
        check("logout", keyfob_engine_revoke(engine.get(), bytes(spent), spent.size()));
        std::cout << "4. logout    -> session revoked\n";

        keyfob_status after = validate(engine, access_of(second), nullptr);
        std::cout << "5. validate  -> " << keyfob_status_name(after) << " ("
                  << keyfob_status_message(after) << ")\n";
        if (after != KEYFOB_REVOKED) {
            std::cerr << "expected revoked after logout\n";
            return 1;
        }
        std::cout << "ok: the flow ends with the token refused\n";
        return 0;
    } catch (const Error &e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}

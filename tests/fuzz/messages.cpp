// Fuzz target: the protocol message decoders (proto/messages.hpp): every
// payload codec the catalogue's messages use, with the expectations a
// receiver takes from the public plan. Input: [u8 codec][u16 n][u8 extra][body].
#include "fuzz.hpp"
#include "pmdi/core/bytes.hpp"
#include "pmdi/proto/messages.hpp"

namespace proto = pmdi::proto;

namespace {
struct decl : proto::message_decl<0x0100, pmdi::role::client, pmdi::role::cloud, proto::phase::offline> {};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::uint8_t codec = data[0] % 9;
  const std::size_t n = data[1] | std::size_t{data[2]} << 8;  // the count the receiver expects
  const std::uint8_t extra = data[3];
  const auto body = pmdi::fuzz::bytes(data + 4, size - 4);
  pmdi::fuzz::expect_refusal_or_success([&] {
    pmdi::byte_reader r(body, "fuzzed message");
    switch (codec) {
      case 0: (void)proto::words_message<decl>::read<std::uint32_t>(r, n); break;
      case 1: (void)proto::words_message<decl>::read<std::uint64_t>(r, n); break;
      case 2: (void)proto::ciphertexts_message<decl>::read(r, n % 64); break;
      case 3: (void)proto::bounded_words_message<decl>::read(r, n % 256, extra, 2046); break;
      case 4: (void)proto::blob_message<decl>::read(r, n * 16); break;
      case 5: (void)proto::blocks_message<decl>::read(r, n); break;
      case 6: (void)proto::bits_message<decl>::read(r, n); break;
      case 7: (void)proto::packed_bits_message<decl>::read(r, n); break;
      default: (void)pmdi::proto::wire::get_blobs(r, n % 16, "blobs"); break;
    }
    r.expect_end();  // as channel::receive does: every byte consumed
  });
  return 0;
}

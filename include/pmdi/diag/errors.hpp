#pragma once
// The one catalogue of pmdi's compile-time error identifiers.
//
// Every static_assert message in pmdi starts with one of these identifiers and
// then reads like the user's code. A failed network check's first error line
// names the identifier, the offending layers and the numbers (diag::error
// below); docs/errors.md has one entry per identifier with its cause and fix.
//
// Layout: one block per area. Add a new area as a new block; keep each tag an
// empty struct with `id`, `cause` and `fix` strings (the docs mirror them).
#include <cstddef>
#include <string_view>

namespace pmdi::diag {

// Always false, but only once the template arguments are known: lets a
// static_assert fire on instantiation and name those arguments.
template <class...>
inline constexpr bool always_false_v = false;

#define PMDI_DIAG_ENTRY(name, cause_text, fix_text)               \
  struct name {                                                   \
    static constexpr std::string_view id = #name;                 \
    static constexpr std::string_view cause = cause_text;         \
    static constexpr std::string_view fix = fix_text;             \
  };

// ---- area: network declaration (nn::sequential, layers, shapes) -------------
PMDI_DIAG_ENTRY(PMDI_E_NOT_A_LAYER, "a template argument of nn::sequential or nn::residual is not a pmdi layer",
                "use the layer templates of pmdi::nn (conv2d, dense, relu, ...)")
PMDI_DIAG_ENTRY(PMDI_E_FIRST_NOT_INPUT, "the first layer is not nn::input<C, H, W>, or input appears again later",
                "start the network with exactly one nn::input<C, H, W>")
PMDI_DIAG_ENTRY(PMDI_E_EMPTY_NETWORK, "nn::sequential has no layer after the input", "add at least one layer")
PMDI_DIAG_ENTRY(PMDI_E_BAD_PARAMETER, "a layer parameter is zero (channels, units, kernel or stride)",
                "give every size and stride a positive value")
PMDI_DIAG_ENTRY(PMDI_E_SHAPE_MISMATCH, "a layer gets a tensor of a shape it cannot take (dense on a 3-D tensor, "
                "conv2d or pooling on a flat vector)", "insert nn::flatten before dense, or remove it before conv2d")
PMDI_DIAG_ENTRY(PMDI_E_KERNEL_TOO_LARGE, "a conv2d or pooling window is larger than its (padded) input",
                "use a smaller kernel, more padding or fewer pooling layers")
PMDI_DIAG_ENTRY(PMDI_E_ARGMAX_NOT_LAST, "nn::argmax is followed by another layer", "make argmax the final layer")
PMDI_DIAG_ENTRY(PMDI_E_BATCHNORM_PLACEMENT, "nn::batchnorm does not directly follow a conv2d or dense layer",
                "place batchnorm right after the conv2d/dense it normalises (it is folded into it)")
// ---- area: residual connections ---------------------------------------------
PMDI_DIAG_ENTRY(PMDI_E_RESIDUAL_SHAPE, "the two operands of a residual add differ in shape",
                "add nn::shortcut<nn::conv2d<C, 1, S>> to project the skip path to the body's shape")
PMDI_DIAG_ENTRY(PMDI_E_RESIDUAL_SOURCE, "a residual block starts at a tensor that is not a stage boundary "
                "(the network input or the output of a non-linear run)",
                "start the block after a relu/maxpool, or move the add so the skip source is a stage output")
PMDI_DIAG_ENTRY(PMDI_E_SHORTCUT_NOT_LINEAR, "nn::shortcut<...> contains a non-linear layer",
                "use only linear layers (conv2d, batchnorm, meanpool) in a shortcut")
// ---- area: fixed point and capacities (ring width, Paillier) ---------------
PMDI_DIAG_ENTRY(PMDI_E_RING_OVERFLOW, "the worst-case magnitude of a stage's linear output does not fit the ring",
                "use ring<64, F>, fewer fractional bits F, or declare tighter nn::bounds<...>")
PMDI_DIAG_ENTRY(PMDI_E_COEFF_OVERFLOW, "a row sum of a stage's coefficients may not fit in int64",
                "use fewer fractional bits F or split the linear run with a non-linear layer")
PMDI_DIAG_ENTRY(PMDI_E_PAILLIER_CAPACITY, "|A c + b| plus the 40-bit statistical mask does not fit a Paillier plaintext",
                "use a smaller ring, fewer fractional bits, or a larger Paillier modulus")

#undef PMDI_DIAG_ENTRY

// The first error line of a failed check. error<Id, Where...> is declared and
// never defined: a check takes its size, which is the error, and the
// compiler spells the type with its arguments, so that line names the
// identifier, the layer (index and spelling) and the numbers:
//   error: invalid application of 'sizeof' to incomplete type
//     'pmdi::diag::error<pmdi::diag::PMDI_E_RING_OVERFLOW, pmdi::nn::layer_at<4, pmdi::nn::conv2d<16, 5> >,
//      pmdi::plan::stage<1>, pmdi::plan::needs_bits<34>, pmdi::plan::has_bits<32>, ...>'
// A check writes
//   static_assert(sizeof(diag::error<diag::PMDI_E_..., Where...>) != 0);
//   static_assert(always_false_v<Where...>, "PMDI_E_...: the sentence with the fix");
// and its value stays true, so that no unlabelled "static assertion failed"
// follows at the user's static_assert(nn::valid_v<...>) or checked_v.
template <class Id, class... Where>
struct error;

}  // namespace pmdi::diag

// The catalogue of pmdi's compile-time error identifiers. Every static_assert
// message starts with one of them (PMDI_E_...); docs/errors.md explains each
// one's cause and fix, and tests/compile_fail/ has one file per identifier.
//
// A failing check instantiates a small class template whose arguments are the
// offending types. Its first error line is the size of diag::error<identifier,
// roles and message...> (as for the network checks), so that line names the
// roles and the message:
//   invalid application of 'sizeof' to incomplete type 'pmdi::diag::error<
//     pmdi::diag::roles::PMDI_E_ROLE_WRONG_SENDER, pmdi::diag::roles::sending_role<pmdi::role::garbler<0> >,
//     pmdi::diag::roles::message<pmdi::proto::msg_masked_input>, pmdi::diag::roles::declared_sender<pmdi::role::client> >'
// and the labelled static_assert with the sentence follows.

// =============================================================================
// roles: who may send and receive which message (proto/roles.hpp, proto/channel.hpp)
// =============================================================================
namespace pmdi::diag::roles {

template <class...>
inline constexpr bool always_false_v = false;

// The identifiers and the parts the first error line names (declared only).
struct PMDI_E_NOT_A_ROLE;
struct PMDI_E_ROLE_SELF_CHANNEL;
struct PMDI_E_NOT_A_MESSAGE;
struct PMDI_E_ROLE_WRONG_SENDER;
struct PMDI_E_ROLE_WRONG_RECEIVER;
template <class T> struct not_a_role_type;
template <class R> struct role_at_both_ends;
template <class T> struct not_a_message_type;
template <class M> struct message;
template <class R> struct sending_role;
template <class R> struct receiving_role;
template <class R> struct peer;
template <class R> struct declared_sender;
template <class R> struct declared_receiver;

// PMDI_E_NOT_A_ROLE: channel<Self, Peer> was given a type that is not one of
// role::client, role::cloud, role::garbler<J>, role::evaluator<J>, role::compute<J, V>.
template <class NotARole>
struct not_a_role {
  static_assert(sizeof(error<PMDI_E_NOT_A_ROLE, not_a_role_type<NotARole>>) != 0);  // the first error line
  static_assert(always_false_v<NotARole>,
                "PMDI_E_NOT_A_ROLE: channel<Self, Peer> takes pmdi::role types (client, cloud, garbler<J>, "
                "evaluator<J>, compute<J, V>); the template argument shown is not one");
};

// PMDI_E_ROLE_SELF_CHANNEL: a role cannot hold a channel to itself.
template <class Role>
struct role_self_channel {
  static_assert(sizeof(error<PMDI_E_ROLE_SELF_CHANNEL, role_at_both_ends<Role>>) != 0);  // the first error line
  static_assert(always_false_v<Role>, "PMDI_E_ROLE_SELF_CHANNEL: channel<R, R>: a role cannot talk to itself");
};

// PMDI_E_NOT_A_MESSAGE: a message type needs `using sender`, `using receiver`
// (roles) and `static constexpr std::uint16_t id` (below 0xFF00); the
// catalogue (proto/messages.hpp) declares them with proto::message_decl.
template <class NotAMessage>
struct not_a_message {
  static_assert(sizeof(error<PMDI_E_NOT_A_MESSAGE, not_a_message_type<NotAMessage>>) != 0);  // the first error line
  static_assert(always_false_v<NotAMessage>,
                "PMDI_E_NOT_A_MESSAGE: the type shown is not a message: it needs `using sender = <role>`, "
                "`using receiver = <role>` and `static constexpr std::uint16_t id` (below 0xFF00), as "
                "proto::message_decl declares them");
};

// PMDI_E_ROLE_WRONG_SENDER (send side): the role that sends is not the message's declared sender.
template <class SendingRole, class Message, class DeclaredSender>
struct role_cannot_send {
  static_assert(sizeof(error<PMDI_E_ROLE_WRONG_SENDER, sending_role<SendingRole>, message<Message>,
                             declared_sender<DeclaredSender>>) != 0);  // the first error line
  static_assert(always_false_v<SendingRole, Message, DeclaredSender>,
                "PMDI_E_ROLE_WRONG_SENDER: this role may not send this message: its declared sender is another "
                "role (template arguments: <sending role, message, declared sender>)");
};

// PMDI_E_ROLE_WRONG_SENDER (receive side): the channel's peer is not the message's declared sender.
template <class Peer, class Message, class DeclaredSender>
struct peer_cannot_send {
  static_assert(sizeof(error<PMDI_E_ROLE_WRONG_SENDER, peer<Peer>, message<Message>,
                             declared_sender<DeclaredSender>>) != 0);  // the first error line
  static_assert(always_false_v<Peer, Message, DeclaredSender>,
                "PMDI_E_ROLE_WRONG_SENDER: this message cannot arrive from this peer: its declared sender is "
                "another role (template arguments: <peer, message, declared sender>)");
};

// PMDI_E_ROLE_WRONG_RECEIVER (send side): the channel's peer is not the message's declared receiver.
template <class Peer, class Message, class DeclaredReceiver>
struct peer_cannot_receive {
  static_assert(sizeof(error<PMDI_E_ROLE_WRONG_RECEIVER, peer<Peer>, message<Message>,
                             declared_receiver<DeclaredReceiver>>) != 0);  // the first error line
  static_assert(always_false_v<Peer, Message, DeclaredReceiver>,
                "PMDI_E_ROLE_WRONG_RECEIVER: this message may not be sent to this peer: its declared receiver is "
                "another role (template arguments: <peer, message, declared receiver>)");
};

// PMDI_E_ROLE_WRONG_RECEIVER (receive side): the role that receives is not the message's declared receiver.
template <class ReceivingRole, class Message, class DeclaredReceiver>
struct role_cannot_receive {
  static_assert(sizeof(error<PMDI_E_ROLE_WRONG_RECEIVER, receiving_role<ReceivingRole>, message<Message>,
                             declared_receiver<DeclaredReceiver>>) != 0);  // the first error line
  static_assert(always_false_v<ReceivingRole, Message, DeclaredReceiver>,
                "PMDI_E_ROLE_WRONG_RECEIVER: this role may not receive this message: its declared receiver is "
                "another role (template arguments: <receiving role, message, declared receiver>)");
};

}  // namespace pmdi::diag::roles

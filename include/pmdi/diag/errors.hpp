#pragma once
// The catalogue of pmdi's compile-time error identifiers. Every static_assert
// message starts with one of them (PMDI_E_...); docs/errors.md explains each
// one's cause and fix, and tests/compile_fail/ has one file per identifier.
//
// A failing check instantiates a small class template whose arguments are the
// offending types, so the compiler prints them next to our sentence
// ("required from 'struct pmdi::diag::role_cannot_send<pmdi::role::garbler<0>, hello, pmdi::role::client>'").

// =============================================================================
// roles: who may send and receive which message (proto/roles.hpp, proto/channel.hpp)
// =============================================================================
namespace pmdi::diag::roles {

template <class...>
inline constexpr bool always_false_v = false;

// PMDI_E_NOT_A_ROLE: channel<Self, Peer> was given a type that is not one of
// role::client, role::cloud, role::garbler<J>, role::evaluator<J>, role::compute<J, V>.
template <class NotARole>
struct not_a_role {
  static_assert(always_false_v<NotARole>,
                "PMDI_E_NOT_A_ROLE: channel<Self, Peer> takes pmdi::role types (client, cloud, garbler<J>, "
                "evaluator<J>, compute<J, V>); the template argument shown is not one");
};

// PMDI_E_ROLE_SELF_CHANNEL: a role cannot hold a channel to itself.
template <class Role>
struct role_self_channel {
  static_assert(always_false_v<Role>, "PMDI_E_ROLE_SELF_CHANNEL: channel<R, R>: a role cannot talk to itself");
};

// PMDI_E_NOT_A_MESSAGE: a message type needs `using sender`, `using receiver`
// (roles), `static constexpr std::uint16_t id` (below 0xFF00), and
// `void serialize(byte_writer&) const`.
template <class NotAMessage>
struct not_a_message {
  static_assert(always_false_v<NotAMessage>,
                "PMDI_E_NOT_A_MESSAGE: the type shown is not a message: it needs `using sender = <role>`, "
                "`using receiver = <role>`, `static constexpr std::uint16_t id` (below 0xFF00) and "
                "`void serialize(pmdi::byte_writer&) const`");
};

// PMDI_E_MESSAGE_NOT_RECEIVABLE: receive<Msg>(deadline, args...) needs
// `static std::size_t max_bytes(args...)` and `static Msg parse(pmdi::byte_reader&, args...)`.
template <class Message, class... Args>
struct message_not_receivable {
  static_assert(always_false_v<Message, Args...>,
                "PMDI_E_MESSAGE_NOT_RECEIVABLE: receive<Msg>(deadline, args...) needs "
                "`static std::size_t Msg::max_bytes(args...)` and `static Msg Msg::parse(pmdi::byte_reader&, args...)` "
                "callable with the arguments shown");
};

// PMDI_E_ROLE_WRONG_SENDER (send side): the role that sends is not the message's declared sender.
template <class SendingRole, class Message, class DeclaredSender>
struct role_cannot_send {
  static_assert(always_false_v<SendingRole, Message, DeclaredSender>,
                "PMDI_E_ROLE_WRONG_SENDER: this role may not send this message: its declared sender is another "
                "role (template arguments: <sending role, message, declared sender>)");
};

// PMDI_E_ROLE_WRONG_SENDER (receive side): the channel's peer is not the message's declared sender.
template <class Peer, class Message, class DeclaredSender>
struct peer_cannot_send {
  static_assert(always_false_v<Peer, Message, DeclaredSender>,
                "PMDI_E_ROLE_WRONG_SENDER: this message cannot arrive from this peer: its declared sender is "
                "another role (template arguments: <peer, message, declared sender>)");
};

// PMDI_E_ROLE_WRONG_RECEIVER (send side): the channel's peer is not the message's declared receiver.
template <class Peer, class Message, class DeclaredReceiver>
struct peer_cannot_receive {
  static_assert(always_false_v<Peer, Message, DeclaredReceiver>,
                "PMDI_E_ROLE_WRONG_RECEIVER: this message may not be sent to this peer: its declared receiver is "
                "another role (template arguments: <peer, message, declared receiver>)");
};

// PMDI_E_ROLE_WRONG_RECEIVER (receive side): the role that receives is not the message's declared receiver.
template <class ReceivingRole, class Message, class DeclaredReceiver>
struct role_cannot_receive {
  static_assert(always_false_v<ReceivingRole, Message, DeclaredReceiver>,
                "PMDI_E_ROLE_WRONG_RECEIVER: this role may not receive this message: its declared receiver is "
                "another role (template arguments: <receiving role, message, declared receiver>)");
};

}  // namespace pmdi::diag::roles

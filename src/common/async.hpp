// Asio types bound to one concrete executor: an io_context run by one thread. Binding the
// executor type statically avoids the type-erased any_io_executor on every operation.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/basic_socket_acceptor.hpp>
#include <asio/basic_stream_socket.hpp>
#include <asio/basic_waitable_timer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>

namespace sluice {

using Executor = asio::io_context::executor_type;
template <class T = void>
using Task = asio::awaitable<T, Executor>;
using TcpSocket = asio::basic_stream_socket<asio::ip::tcp, Executor>;
using TcpAcceptor = asio::basic_socket_acceptor<asio::ip::tcp, Executor>;
using SteadyTimer =
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>, Executor>;

// Completion token: results as a tuple (error_code first), no exceptions on the hot path.
inline constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable_t<Executor>{});

}  // namespace sluice

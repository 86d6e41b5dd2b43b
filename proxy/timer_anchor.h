#pragma once
// Keeps a timer at the head of an io_context's timer queue, never more than kPeriod away. Asio
// reprograms the kernel timer (a timerfd_settime call) whenever a newly armed timer becomes the
// earliest, and every read and write of a session arms one (beast's per-operation timeouts): on a
// lone connection each of them was the earliest, four system calls a request. Behind the anchor they
// never are, and the anchor costs two calls a second. Timeouts shorter than kPeriod work as before.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace llmtap::proxy {

class TimerAnchor {
 public:
  static constexpr std::chrono::seconds kPeriod{1};

  explicit TimerAnchor(boost::asio::io_context& ioc) : timer_(ioc) { arm(); }
  TimerAnchor(const TimerAnchor&) = delete;
  TimerAnchor& operator=(const TimerAnchor&) = delete;

 private:
  void arm() {
    timer_.expires_after(kPeriod);
    // Cancelled (the anchor destroyed): the handler runs, if at all, without touching this.
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) arm();
    });
  }

  boost::asio::steady_timer timer_;
};

}  // namespace llmtap::proxy

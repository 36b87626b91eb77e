#include "recovery.h"

#include "espat_config.h"
#include "log_event.h"
#include "saved_regs.h"

void Recovery::poll() {
  uint8_t resets = esp.resets();  // `ready` lines the driver heard (it counts modulo 256)
  if (resets == resetsSeen_) return;
  count(post.diag.espReboots, (uint8_t)(resets - resetsSeen_));
  resetsSeen_ = resets;
  if (!esp.busy() && job_ == Job::None) synced_ = false;
}

void Recovery::backOff(uint32_t retryAfterMs) {
  REPORTER_SAVED("r16", "r17", "r28", "r29");  // with the back-off inlined, r8-r15 are used (saved_regs.h)
  waitFrom_ = millis();
  waitMs_ = backoff.failed(retryAfterMs);
  LOG("back off ms", waitMs_);
}

bool Recovery::step() {
  if (!synced_) {
    job_ = Job::Sync;
    if (rung_ == 0) {
      esp.startSync();
    } else {
      LOG16("reset module", rung_);
      esp.startReset(rung_ == 2);  // 2 only with ESPAT_RESET_PIN wired
    }
  } else if (askStation_) {  // after the resync, before any join: the module's own word on the station
    if (esp.startWifiQuery()) job_ = Job::Query;
  } else if (!esp.wifiUp()) {
    if (esp.startJoin(ESPAT_PICK(WIFI_SSID), ESPAT_PICK(WIFI_PASS))) {
      job_ = Job::Join;
      count(post.diag.wifiJoins);
    }
  } else {
    return false;
  }
  return true;
}

bool Recovery::rebooted(EspStatus status) {
  if (status != EspStatus::ModuleReset) return false;
  synced_ = false;
  if (reboots_ >= ESPAT_REBOOT_RETRIES) return false;  // backed off and down the ladder by the caller
  reboots_++;
  rung_ = 0;  // the ladder from its first step, with no pause
  LOG16("module rebooted", reboots_);
  return true;
}

bool Recovery::done(EspStatus status) {
  Job job = job_;
  if (job == Job::None) return false;
  job_ = Job::None;
  if (rebooted(status)) return true;
  if (job == Job::Sync) {
    synced_ = status == EspStatus::Ok;
    if (synced_) {
      rung_ = 0;
      LOG("module ready", post.diag.espReboots);
    } else {
      LOG16("sync failed", (uint8_t)status);
      // The next try goes one step further down the ladder; its last step repeats.
      if (rung_ < (ESPAT_RESET_PIN >= 0 ? 2 : 1)) rung_++;
      backOff();
    }
  } else {
    // A join or the station query: no answer, the module is not listening.
    if (status == EspStatus::Timeout) synced_ = false;
    if (job == Job::Join) {
      if (status == EspStatus::Ok) {
        LOG("wifi joined", post.diag.wifiJoins);
      } else {
        // FAIL or ERROR: the module answers, the network said no.
        LOG16("join failed", (uint8_t)status);
        backOff();
      }
    } else {
      // wifiUp() now says what the module says: joined, the server is at fault and Wi-Fi is left alone; not
      // joined (a WIFI DISCONNECT missed), step() joins again.
      askStation_ = false;
    }
  }
  return true;
}

#!/usr/bin/env python3
"""A pjsua2 phone for the end-to-end tests (PyPI `pjsua2-python`), driven by lines on stdin.

    python3 pjsua_phone.py --port P --rtp-port R --play tone.wav --record heard.wav --log log.txt

stdin commands (one per line):  dial <uri> | info <keys> | rfc2833 <keys> | hangup | quit
stdout events (one per line):   READY | CALLING | ESTABLISHED | MEDIA | CLOSED <code> |
                                SENT <keys> | ERROR <text> | BYE
Everything pjsua2 does runs on the main thread (threadCnt = 0); a reader thread only queues
the stdin lines. Sends and records 8 kHz mono PCMU, bound to 127.0.0.1.
"""

import argparse
import queue
import sys
import threading

import pjsua2 as pj


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Call(pj.Call):
    def __init__(self, acc, phone):
        pj.Call.__init__(self, acc)
        self.phone = phone

    def onCallState(self, prm):
        ci = self.getInfo()
        if ci.state == pj.PJSIP_INV_STATE_CONFIRMED:
            say("ESTABLISHED")
        elif ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            say("CLOSED %d" % ci.lastStatusCode)
            self.phone.closed = True

    def onCallMediaState(self, prm):
        ci = self.getInfo()
        for mi in ci.media:
            if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                am = self.getAudioMedia(mi.index)
                self.phone.player.startTransmit(am)
                am.startTransmit(self.phone.recorder)
                say("MEDIA")


class Phone:
    def __init__(self, args):
        self.closed = False
        self.call = None
        ep = pj.Endpoint()
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.userAgent = "konferenz-e2e-pjsua2"
        cfg.logConfig.level = 4
        cfg.logConfig.consoleLevel = 0
        cfg.logConfig.filename = args.log
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.channelCount = 1
        cfg.medConfig.noVad = True
        cfg.medConfig.ecTailLen = 0
        ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.port = args.port
        tcfg.boundAddress = "127.0.0.1"
        tcfg.publicAddress = "127.0.0.1"
        ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        ep.libStart()
        ep.audDevManager().setNullDev()
        for c in ep.codecEnum2():
            ep.codecSetPriority(c.codecId, 255 if c.codecId.startswith("PCMU/") else 0)
        acfg = pj.AccountConfig()
        acfg.idUri = "sip:%s@127.0.0.1:%d" % (args.name, args.port)
        acfg.sipConfig.proxies = pj.StringVector()
        acfg.mediaConfig.transportConfig.port = args.rtp_port
        acfg.mediaConfig.transportConfig.portRange = 20
        acfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
        acfg.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
        acfg.natConfig.iceEnabled = False
        acfg.natConfig.sdpNatRewriteUse = 0
        acfg.natConfig.viaRewriteUse = 0
        acfg.natConfig.contactRewriteUse = 0
        self.acc = pj.Account()
        self.acc.create(acfg)
        self.player = pj.AudioMediaPlayer()
        self.player.createPlayer(args.play)
        self.recorder = pj.AudioMediaRecorder()
        self.recorder.createRecorder(args.record)
        self.ep = ep

    def handle(self, line):
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "dial":
            self.call = Call(self.acc, self)
            prm = pj.CallOpParam(True)
            self.call.makeCall(arg, prm)
            say("CALLING")
        elif cmd in ("info", "rfc2833"):
            prm = pj.CallSendDtmfParam()
            prm.digits = arg
            prm.duration = 160
            prm.method = (
                pj.PJSUA_DTMF_METHOD_SIP_INFO if cmd == "info" else pj.PJSUA_DTMF_METHOD_RFC2833
            )
            self.call.sendDtmf(prm)
            say("SENT " + arg)
        elif cmd == "hangup":
            if self.call is not None and not self.closed:
                self.call.hangup(pj.CallOpParam(True))
        elif cmd == "quit":
            return False
        else:
            say("ERROR unknown command " + cmd)
        return True

    def shutdown(self):
        self.ep.hangupAllCalls()
        for _ in range(50):
            self.ep.libHandleEvents(20)
        # Close the recorder so the WAV header gets its sizes.
        del self.recorder
        del self.player
        self.call = None
        self.ep.libDestroy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="pjsua")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rtp-port", type=int, required=True)
    ap.add_argument("--play", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()

    lines = queue.Queue()

    def reader():
        for line in sys.stdin:
            lines.put(line)
        lines.put("quit")

    threading.Thread(target=reader, daemon=True).start()
    phone = Phone(args)
    say("READY")
    running = True
    while running:
        phone.ep.libHandleEvents(10)
        try:
            line = lines.get_nowait()
        except queue.Empty:
            continue
        try:
            running = phone.handle(line)
        except pj.Error as e:
            say("ERROR " + str(e.info()).replace("\n", " "))
    phone.shutdown()
    say("BYE")


if __name__ == "__main__":
    main()

"""InfoPlugins are collected again and resent when hbd restarts: the ACK's
request_update makes hbc drop its InfoPlugin caches and send them at once."""

from client_support import Hbc, plugins_of
from hbtest import Hbd


def test_info_plugins_resent_after_hbd_restart():
    with Hbd({"interval": 1, "grace": 5}) as hbd:
        cfg = {"default_plugins": False, "plugins": {"os_info": {}, "filesystem_info": {},
                                                      "memory_monitor": {"interval": 300}}}
        with Hbc(hbd, cfg) as hbc:
            first = hbd.wait_for(
                lambda: (lambda p: p if "os_info" in p and "filesystem_info" in p else None)(plugins_of(hbd, "client01")),
                15, "the InfoPlugins")
            t_before = first["os_info"]["timestamp"]
            fs_before = first["filesystem_info"]["timestamp"]
            hbd.restart()
            # hbd keeps serving stored data (the old samples); the fresh InfoPlugin
            # samples come from hbc after request_update, so wait for newer ones.
            fresh = hbd.wait_for(
                lambda: (lambda p: p if p.get("os_info", {}).get("timestamp", 0) > t_before
                         and p.get("filesystem_info", {}).get("timestamp", 0) > fs_before else None)(
                    plugins_of(hbd, "client01")),
                15, "InfoPlugins sent again after the restart")
            assert fresh["os_info"]["timestamp"] > t_before
            assert fresh["os_info"]["data"]["system"] == "Linux"
            hbd.wait_for(lambda: hbd.host("client01")["request_update"] == 0, 10, "request_update cleared")
            assert "request_update" in hbc.log()

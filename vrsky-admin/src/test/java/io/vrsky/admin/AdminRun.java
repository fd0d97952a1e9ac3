package io.vrsky.admin;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.util.Map;

/** Runs vrsky-admin in-process through picocli, as {@code main} would, with stdout and stderr captured. */
record AdminRun(int exit, String out, String err) {

    static AdminRun run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Admin.run(args, env, new PrintWriter(out, true), new PrintWriter(err, true), Clock.systemUTC());
        return new AdminRun(code, out.toString(), err.toString());
    }

    @Override
    public String toString() {
        return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}

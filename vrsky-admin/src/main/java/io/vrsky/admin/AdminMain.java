package io.vrsky.admin;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;

/**
 * {@code java -jar vrsky-admin.jar <command> ...}: wiring only. Library logging goes to stderr and
 * is off unless {@code VRSKY_ADMIN_LOG_LEVEL} says otherwise, so stdout holds only the command's
 * output (UTF-8 whatever the locale).
 */
public final class AdminMain {

    private AdminMain() {
    }

    public static void main(String[] args) {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "vrsky-admin-logback.xml");
        }
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = Admin.run(args, System.getenv(), out, err, Clock.systemUTC());
        System.exit(code);
    }
}

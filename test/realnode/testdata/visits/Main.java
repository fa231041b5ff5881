// A learner's first service in Java: each GET counts a visit in PostgreSQL
// (the JDBC driver, from JDBC_DATABASE_URL and its user and password) and
// keeps the count in Redis, spoken to in its own protocol over a socket.
import com.sun.net.httpserver.HttpServer;
import java.io.*;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.*;

public class Main {
    static Connection db;

    // redis sends one command and returns its reply's first line, without the type.
    static String redis(String... args) throws IOException {
        URI uri = URI.create(System.getenv("REDIS_URL"));
        try (Socket s = new Socket(uri.getHost(), uri.getPort())) {
            OutputStream out = s.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            send(out, "AUTH", System.getenv("REDIS_PASSWORD"));
            in.readLine();
            send(out, args);
            String reply = in.readLine();
            if (reply.startsWith("$")) {
                reply = in.readLine();
            }
            return reply.replaceFirst("^[+:]", "");
        }
    }

    static void send(OutputStream out, String... args) throws IOException {
        StringBuilder b = new StringBuilder("*" + args.length + "\r\n");
        for (String a : args) {
            b.append("$").append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    public static void main(String[] args) throws Exception {
        db = DriverManager.getConnection(System.getenv("JDBC_DATABASE_URL"),
                System.getenv("JDBC_DATABASE_USERNAME"), System.getenv("JDBC_DATABASE_PASSWORD"));
        try (Statement st = db.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS visits (lang text PRIMARY KEY, n int NOT NULL)");
        }
        HttpServer server = HttpServer.create(new InetSocketAddress(Integer.parseInt(System.getenv("PORT"))), 0);
        server.createContext("/", exchange -> {
            String body;
            int status = 200;
            try (Statement st = db.createStatement();
                 ResultSet rs = st.executeQuery("INSERT INTO visits VALUES ('java', 1) "
                         + "ON CONFLICT (lang) DO UPDATE SET n = visits.n + 1 RETURNING n")) {
                rs.next();
                int n = rs.getInt(1);
                redis("SET", "visits:java", Integer.toString(n));
                body = "java " + n + " " + redis("GET", "visits:java") + "\n";
            } catch (Exception e) {
                status = 500;
                body = e.toString();
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
    }
}

package io.natgw.persistence;

/** A record's bytes do not decode: the message names the field and what was expected. */
final class RecordFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    RecordFormatException(String message) {
        super(message);
    }
}

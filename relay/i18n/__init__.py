"""Messages in English, Russian and Kazakh for every surface (CLI and UI), and local times/durations."""

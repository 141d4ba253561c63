"""The offline installer: a bundle of wheels that installs Jarshy with no network, handed on."""

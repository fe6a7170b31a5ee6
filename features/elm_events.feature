Feature: ELM tells others what it changed
  After each change it writes, ELM puts an event of its own on the bus, for other systems
  to react to: an exception closed, a member of a group deleted, a sweep finished. It says
  nothing for a change it did not write: a dry run, or a report of a deletion it already
  applied.

  Background:
    Given the rule "restricted-ssh" over security groups whose exceptions name one resource by its ID

  Scenario: A closed exception is announced once, naming the exception and what closed it
    Given account 111122223333 has an exception for "sg-0abc" under "restricted-ssh" in eu-west-1
    And the inventory shows the security group "sg-0abc" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "sg-0abc" in account 111122223333, eu-west-1 is reported for "restricted-ssh"
    And the same report is delivered again
    Then the outcomes are "closed, duplicate"
    And ELM announced exactly "Exception Closed"
    And the "Exception Closed" announcement names the exception "sg-0abc" of account 111122223333 under "restricted-ssh" and the report that closed it

  Scenario: A group's member deletion is announced, and its close when the last member goes
    Given the rule "ebs-encrypted" over volumes whose exceptions name a group of resources by their IDs
    And account 111122223333 has an exception for "vol-1,vol-2" under "ebs-encrypted" in eu-west-1
    And the inventory shows the volume "vol-1" of account 111122223333 in eu-west-1 as deleted
    And the inventory shows the volume "vol-2" of account 111122223333 in eu-west-1 as still existing
    When the deletion of the volume "vol-1" in account 111122223333, eu-west-1 is reported for "ebs-encrypted"
    Then the outcome is "member-deleted"
    And ELM announced exactly "Exception Member Deleted"
    And the "Exception Member Deleted" announcement names the members "vol-1"
    When the volumes "vol-2" are deleted one by one in account 111122223333, eu-west-1 and each deletion is reported for "ebs-encrypted"
    Then the outcome is "closed"
    And ELM announced exactly "Exception Closed"
    And the "Exception Closed" announcement names the members "vol-2"

  Scenario: A sweep announces what it closed, then that it finished
    Given account 111122223333 has an exception for "sg-0abc" under "restricted-ssh" in eu-west-1
    And account 111122223333 has an exception for "sg-0live" under "restricted-ssh" in eu-west-1
    And the inventory shows the security group "sg-0abc" of account 111122223333 in eu-west-1 as deleted
    And the inventory shows the security group "sg-0live" of account 111122223333 in eu-west-1 as still existing
    When the sweep runs
    Then ELM announced exactly "Exception Closed, Reconciliation Finished"
    And the "Exception Closed" announcement names the sweep run
    And the "Reconciliation Finished" announcement counts 1 "closed" and 2 records scanned

  Scenario: Nothing is announced for a dry run
    Given account 111122223333 has an exception for "sg-0abc" under "restricted-ssh" in eu-west-1
    And the inventory shows the security group "sg-0abc" of account 111122223333 in eu-west-1 as deleted
    And the dry run is on
    When the deletion of the security group "sg-0abc" in account 111122223333, eu-west-1 is reported for "restricted-ssh"
    Then the outcome is "closed"
    And ELM announced nothing
